// The members screen (/console/members/*): search by id prefix, and each member's 360 view.
import { Route, Routes } from "react-router";
import { Member360View } from "./members/Member360";
import { MemberList } from "./members/MemberList";
import "./members/members.css";

export default function Members() {
  return (
    <Routes>
      <Route index element={<MemberList />} />
      <Route path=":id" element={<Member360View />} />
    </Routes>
  );
}
