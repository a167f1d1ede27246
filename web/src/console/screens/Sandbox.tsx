// The checkout sandbox screen (/console/sandbox): quote a cart for a member.
import { Route, Routes } from "react-router";
import { SandboxPage } from "./sandbox/SandboxPage";

export default function Sandbox() {
  return (
    <Routes>
      <Route index element={<SandboxPage />} />
      <Route path="*" element={<SandboxPage />} />
    </Routes>
  );
}
