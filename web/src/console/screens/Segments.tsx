// The segments screen (/console/segments/*): the list, the rule builder, each segment's members.
import { Route, Routes } from "react-router";
import { SegmentBuilder } from "./segments/SegmentBuilder";
import { SegmentList } from "./segments/SegmentList";
import { SegmentMembers } from "./segments/SegmentMembers";
import "./segments/segments.css";

export default function Segments() {
  return (
    <Routes>
      <Route index element={<SegmentList />} />
      <Route path="new" element={<SegmentBuilder />} />
      <Route path=":id" element={<SegmentMembers />} />
      <Route path=":id/edit" element={<SegmentBuilder />} />
    </Routes>
  );
}
