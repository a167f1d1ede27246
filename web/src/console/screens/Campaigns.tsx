// The campaigns screen (/console/campaigns/*): list, playbooks, builder, and each campaign.
import { Route, Routes } from "react-router";
import { Builder } from "./campaigns/Builder";
import { CampaignDetail } from "./campaigns/CampaignDetail";
import { CampaignList } from "./campaigns/CampaignList";
import { Playbooks } from "./campaigns/Playbooks";
import "./campaigns/campaigns.css";

export default function Campaigns() {
  return (
    <Routes>
      <Route index element={<CampaignList />} />
      <Route path="new" element={<Builder />} />
      <Route path="playbooks" element={<Playbooks />} />
      <Route path=":id" element={<CampaignDetail />} />
    </Routes>
  );
}
