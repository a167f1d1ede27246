// The console's entry: the router under /console and the session around the app.
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./App";
import { SessionProvider } from "./session";
import "./console.css";

createRoot(document.getElementById("root")!).render(
  <BrowserRouter basename="/console">
    <SessionProvider>
      <App />
    </SessionProvider>
  </BrowserRouter>,
);
