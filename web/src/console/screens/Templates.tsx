// The Templates area (`/console/templates/*`): list, create, detail and draft editing.
import { Route, Routes } from "react-router";
import TemplateDetail from "./templates/TemplateDetail";
import TemplateForm from "./templates/TemplateForm";
import TemplateList from "./templates/TemplateList";
import "./templates/templates.css";

export default function Templates() {
  return (
    <div className="templates-screen">
      <Routes>
        <Route index element={<TemplateList />} />
        <Route path="new" element={<TemplateForm />} />
        <Route path=":id" element={<TemplateDetail />} />
        <Route path=":id/edit" element={<TemplateForm key="edit" />} />
      </Routes>
    </div>
  );
}
