// The calculators (`/console/calculators`): the gross margin setting, LTV per RFM tier, CAC of
// signup campaigns, a threshold from a category mix, a pack against CAC, a lottery's reach.
// Every figure is the API's; the page only gathers the inputs and shows the answers.
import { useEffect, useState, type FormEvent } from "react";
import type { Schemas } from "../../shared/api";
import { parseYuan, percent, yuan } from "../../shared/money";
import { useApi } from "../session";
import { ErrorBanner, PageHeader, TextField } from "../ui";
import { useCalculators } from "./calculators/messages";

type Ltv = Schemas["LtvView"];
type Cac = Schemas["CacView"];
type Threshold = Schemas["ThresholdView"];
type Pack = Schemas["PackView"];
type Lottery = Schemas["LotteryView"];
type T = ReturnType<typeof useCalculators>;

/** "12.5" (percent) → 1250 bp; NaN when it is not a number. */
const bp = (text: string) => Math.round(Number(text.trim()) * 100);

export default function Calculators() {
  const t = useCalculators();
  return (
    <>
      <PageHeader title={t("title")} />
      <p className="muted">{t("intro")}</p>
      <LtvCard t={t} />
      <CacCard t={t} />
      <ThresholdCard t={t} />
      <PackCard t={t} />
      <LotteryCard t={t} />
    </>
  );
}

/** Runs `call` on submit, keeping its answer and its error. */
function useSubmit<R>(call: () => Promise<R>) {
  const [answer, setAnswer] = useState<R | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAnswer(await call());
    } catch (err) {
      setError(err);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  }
  return { answer, error, busy, submit };
}

function LtvCard({ t }: { t: T }) {
  const api = useApi();
  const [margin, setMargin] = useState("");
  const [months, setMonths] = useState("12");
  const [saved, setSaved] = useState(false);
  const [marginError, setMarginError] = useState<unknown>(null);
  useEffect(() => {
    api<Schemas["Economics"]>("GET", "/v1/economics").then((e) => setMargin(String(e.gross_margin_bp / 100)), setMarginError);
  }, [api]);
  const ltv = useSubmit(() => api<Ltv>("GET", `/v1/calculators/ltv?months=${encodeURIComponent(months)}`));

  async function saveMargin() {
    setSaved(false);
    setMarginError(null);
    try {
      await api("PUT", "/v1/economics", { gross_margin_bp: bp(margin) });
      setSaved(true);
    } catch (e) {
      setMarginError(e);
    }
  }

  const groupName = (g: Schemas["LtvGroup"]) => (g.kind === "all" ? t("all") : g.name === "unranked" ? t("unranked") : (g.name ?? ""));
  return (
    <section className="card" aria-labelledby="calc-ltv">
      <h2 id="calc-ltv">{t("ltv")}</h2>
      <div className="row">
        <TextField label={t("margin")} value={margin} onChange={(v) => (setMargin(v), setSaved(false))} />
        <button type="button" className="secondary" onClick={saveMargin}>
          {t("saveMargin")}
        </button>
        {saved && <span role="status">{t("saved")}</span>}
      </div>
      <ErrorBanner error={marginError} />
      <form className="row" onSubmit={ltv.submit}>
        <TextField label={t("months")} value={months} onChange={setMonths} />
        <button type="submit" disabled={ltv.busy}>
          {t("compute")}
        </button>
      </form>
      <ErrorBanner error={ltv.error} />
      {ltv.answer && (
        <table className="compact" aria-label={t("ltv")}>
          <thead>
            <tr>
              {(["group", "buyers", "orders", "monthly", "avgOrder", "churn", "ltvCol", "ceiling"] as const).map((k, i) => (
                <th key={k} scope="col" className={i ? "num" : undefined}>
                  {t(k)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ltv.answer.groups.map((g) => (
              <tr key={`${g.kind}-${g.name ?? ""}`}>
                <th scope="row">{groupName(g)}</th>
                <td className="num">{g.buyers}</td>
                <td className="num">{g.orders}</td>
                <td className="num">{g.monthly_orders.toFixed(2)}</td>
                <td className="num">{yuan(g.average_order)}</td>
                <td className="num">{g.churn_bp != null ? percent(g.churn_bp) : "—"}</td>
                <td className="num">{g.ltv != null ? yuan(g.ltv) : "—"}</td>
                <td className="num">{g.cac_ceiling != null ? yuan(g.cac_ceiling) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CacCard({ t }: { t: T }) {
  const api = useApi();
  const cac = useSubmit(() => api<Cac>("GET", "/v1/calculators/cac"));
  const a = cac.answer;
  return (
    <section className="card" aria-labelledby="calc-cac">
      <h2 id="calc-cac">{t("cac")}</h2>
      <p className="muted">{t("cacHint")}</p>
      <button type="button" onClick={() => cac.submit()} disabled={cac.busy}>
        {t("compute")}
      </button>
      <ErrorBanner error={cac.error} />
      {a &&
        (a.campaigns.length === 0 ? (
          <p className="muted">{t("noCampaigns")}</p>
        ) : (
          <table className="compact" aria-label={t("cac")}>
            <thead>
              <tr>
                <th scope="col">{t("campaign")}</th>
                <th scope="col" className="num">{t("spend")}</th>
                <th scope="col" className="num">{t("acquired")}</th>
                <th scope="col" className="num">CAC</th>
              </tr>
            </thead>
            <tbody>
              {a.campaigns.map((c) => (
                <tr key={c.campaign_id}>
                  <th scope="row">{c.name}</th>
                  <td className="num">{yuan(c.spend)}</td>
                  <td className="num">{c.acquired}</td>
                  <td className="num">{c.cac != null ? yuan(c.cac) : "—"}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">{t("total")}</th>
                <td className="num">{yuan(a.spend)}</td>
                <td className="num">{a.acquired}</td>
                <td className="num">{a.cac != null ? yuan(a.cac) : "—"}</td>
              </tr>
            </tbody>
          </table>
        ))}
      {a?.cac_ceiling != null && (
        <p>
          {t("ceiling")}: {yuan(a.cac_ceiling)}
          {a.within_ceiling != null && ` · ${a.within_ceiling ? t("within") : t("over")}`}
        </p>
      )}
    </section>
  );
}

interface MixRow {
  category: string;
  share: string;
  price: string;
}

function ThresholdCard({ t }: { t: T }) {
  const api = useApi();
  const [rows, setRows] = useState<MixRow[]>([{ category: "", share: "100", price: "" }]);
  const run = useSubmit(() =>
    api<Threshold>("POST", "/v1/calculators/threshold", {
      mix: rows.map((r) => ({ category: r.category.trim(), share_bp: bp(r.share), ...(r.price.trim() ? { average_price: parseYuan(r.price) } : {}) })),
    }),
  );
  const set = (i: number, patch: Partial<MixRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <section className="card" aria-labelledby="calc-threshold">
      <h2 id="calc-threshold">{t("threshold")}</h2>
      <form onSubmit={run.submit}>
        {rows.map((r, i) => (
          <fieldset key={i} className="row" aria-label={`${t("category")} ${i + 1}`}>
            <TextField label={t("category")} value={r.category} onChange={(v) => set(i, { category: v })} />
            <TextField label={t("share")} value={r.share} onChange={(v) => set(i, { share: v })} />
            <TextField label={t("price")} value={r.price} onChange={(v) => set(i, { price: v })} />
          </fieldset>
        ))}
        <button type="button" className="secondary" onClick={() => setRows([...rows, { category: "", share: "", price: "" }])}>
          {t("addCategory")}
        </button>{" "}
        <button type="submit" disabled={run.busy}>
          {t("compute")}
        </button>
      </form>
      <ErrorBanner error={run.error} />
      {run.answer && (
        <>
          <p role="status">
            <strong>{t("thresholdIs", { v: yuan(run.answer.threshold) })}</strong>
          </p>
          <ul>
            {run.answer.mix.map((m) => (
              <li key={m.category}>
                {m.category}: {percent(m.share_bp)} × {yuan(m.average_price)} ({m.source === "orders" ? t("fromOrders") : t("given")})
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function PackCard({ t }: { t: T }) {
  const api = useApi();
  const [ids, setIds] = useState("");
  const [use, setUse] = useState("30");
  const [ltv, setLtv] = useState("");
  const run = useSubmit(() =>
    api<Pack>("POST", "/v1/calculators/pack", {
      template_ids: ids.split(",").map((s) => s.trim()).filter(Boolean),
      expected_use_bp: bp(use),
      ...(ltv.trim() ? { ltv: parseYuan(ltv) } : {}),
    }),
  );
  const a = run.answer;
  return (
    <section className="card" aria-labelledby="calc-pack">
      <h2 id="calc-pack">{t("pack")}</h2>
      <form className="row" onSubmit={run.submit}>
        <TextField label={t("templateIds")} value={ids} onChange={setIds} />
        <TextField label={t("expectedUse")} value={use} onChange={setUse} />
        <TextField label={t("ltvInput")} value={ltv} onChange={setLtv} />
        <button type="submit" disabled={run.busy}>
          {t("compute")}
        </button>
      </form>
      <ErrorBanner error={run.error} />
      {a && (
        <p role="status">
          {t("packIs", { face: yuan(a.face_value), cost: yuan(a.expected_cost), ceiling: a.cac_ceiling != null ? yuan(a.cac_ceiling) : "—" })}
          {a.within_ceiling != null && ` · ${a.within_ceiling ? t("within") : t("over")}`}
        </p>
      )}
    </section>
  );
}

interface PrizeRow {
  weight: string;
  big: boolean;
  stock: string;
}

function LotteryCard({ t }: { t: T }) {
  const api = useApi();
  const [prizes, setPrizes] = useState<PrizeRow[]>([
    { weight: "1", big: true, stock: "" },
    { weight: "9", big: false, stock: "" },
  ]);
  const [draws, setDraws] = useState("1");
  const [participants, setParticipants] = useState("");
  const run = useSubmit(() =>
    api<Lottery>("POST", "/v1/calculators/lottery", {
      prizes: prizes.map((p) => ({ weight: Number(p.weight), big: p.big, ...(p.stock.trim() ? { stock: Number(p.stock) } : {}) })),
      draws: Number(draws),
      ...(participants.trim() ? { participants: Number(participants) } : {}),
    }),
  );
  const set = (i: number, patch: Partial<PrizeRow>) => setPrizes(prizes.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const a = run.answer;
  return (
    <section className="card" aria-labelledby="calc-lottery">
      <h2 id="calc-lottery">{t("lottery")}</h2>
      <form onSubmit={run.submit}>
        {prizes.map((p, i) => (
          <fieldset key={i} className="row" aria-label={t("prize", { n: i + 1 })}>
            <TextField label={t("weight")} value={p.weight} onChange={(v) => set(i, { weight: v })} />
            <label className="check">
              <input type="checkbox" checked={p.big} onChange={(e) => set(i, { big: e.target.checked })} /> {t("big")}
            </label>
            <TextField label={t("stock")} value={p.stock} onChange={(v) => set(i, { stock: v })} />
          </fieldset>
        ))}
        <button type="button" className="secondary" onClick={() => setPrizes([...prizes, { weight: "1", big: false, stock: "" }])}>
          {t("addPrize")}
        </button>
        <div className="row">
          <TextField label={t("draws")} value={draws} onChange={setDraws} />
          <TextField label={t("participants")} value={participants} onChange={setParticipants} />
          <button type="submit" disabled={run.busy}>
            {t("compute")}
          </button>
        </div>
      </form>
      <ErrorBanner error={run.error} />
      {a && (
        <div role="status">
          <p>
            <strong>{t("reachIs", { p: percent(a.big_prize_reach_bp) })}</strong>
            {a.meets_rule && ` · ${t("meets")}`}
          </p>
          {a.warnings.map((w) => (
            <p key={w.code} className="banner">
              {w.code === "big_prize_reach_below_20pct" ? t("w_big_prize_reach_below_20pct") : w.message}
            </p>
          ))}
        </div>
      )}
    </section>
  );
}
