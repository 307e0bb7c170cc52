/* The treasury page: polls the gateway's treasury API (/v1/treasury/...) as the viewer whose certificate opened it,
   and writes what it gets into the page. Every amount arrives as a rouble string ("1234567.89") and is shown as that
   string with thousands separators: figures never pass through floating point. Only the charts' geometry does. */
"use strict";

(function () {
  const dash = "\u2014";
  const query = new URLSearchParams(window.location.search);
  // Carried on to the API: `participant` (development mode only) and `bank` (the central bank looking as one bank).
  const carried = new URLSearchParams();
  for (const key of ["participant", "bank"]) {
    if (query.has(key)) carried.set(key, query.get(key));
  }
  let refreshSeconds = 5;
  let charts = null;
  let dayEnd = null; // today's cut-off, seconds since the epoch: the hourly chart spans the 24 hours before it

  function api(path, extra) {
    const parameters = new URLSearchParams(carried);
    for (const [key, value] of Object.entries(extra || {})) parameters.set(key, String(value));
    const text = parameters.toString();
    return fetch("/v1/treasury/" + path + (text ? "?" + text : ""), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (body) {
          throw new Error(path + ": HTTP " + response.status + " " + body.slice(0, 200));
        });
      }
      return response.json();
    });
  }

  // "1234567.89" -> "1,234,567.89"; "-5.00" -> "−5.00"; null -> "—". String work only.
  function rub(text) {
    if (text === null || text === undefined) return dash;
    const negative = text.startsWith("-");
    const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "\u2212" : "") + grouped + (fraction === undefined ? "" : "." + fraction);
  }

  function count(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // "2026-12-06T09:30:15+03:00" -> "09:30:15": the API gives Moscow time with its offset.
  function clock(iso) {
    return iso ? iso.slice(11, 19) : dash;
  }

  function dayAndClock(iso) {
    return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : dash;
  }

  function setText(id, text) {
    const element = document.getElementById(id);
    if (element.textContent !== text) element.textContent = text;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function row(cells, attributes) {
    const tr = document.createElement("tr");
    for (const [key, value] of Object.entries(attributes || {})) tr.setAttribute(key, value);
    for (const td of cells) tr.appendChild(td);
    return tr;
  }

  function fill(tableId, rows, emptyText) {
    const body = document.querySelector("#" + tableId + " tbody");
    const columns = document.querySelectorAll("#" + tableId + " thead th").length;
    const fresh = document.createDocumentFragment();
    if (rows.length === 0) {
      const td = cell(emptyText);
      td.colSpan = columns;
      fresh.appendChild(row([td], { class: "empty" }));
    } else {
      for (const tr of rows) fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }

  // --- overview ----------------------------------------------------------------------------------------------

  function showOverview(overview) {
    refreshSeconds = overview.refresh_seconds;
    const viewer = overview.viewer;
    const central = viewer.role === "central_bank";
    setText("viewer", viewer.name + " (" + viewer.bic + ")" + (central ? ", central bank" : ""));
    const day = overview.business_day;
    setText("business-date", day.date);
    const state = document.getElementById("day-state");
    state.textContent = day.state.replace("_", " ");
    state.className = "state " + day.state;
    setText("cutoff", dayAndClock(day.cutoff));
    dayEnd = Date.parse(day.cutoff) / 1000;
    setText("as-of", clock(overview.as_of) + " MSK");

    const emission = overview.emission;
    setText("supply", rub(emission.supply_rub));
    setText("reserve-ledger", rub(emission.reserve_ledger_rub));
    setText("reserve-rtgs", rub(emission.reserve_rtgs_rub));
    setText("reserve-rtgs-note", central ? "reserve account, booked" : "shown to the central bank only");
    setText("cap", rub(emission.emission_cap_rub));
    setText("headroom", rub(emission.headroom_rub));
    setText("pending-mints", rub(emission.pending_mints_rub));
    const check = document.getElementById("supply-check");
    const balanced = emission.supply_rub === emission.reserve_ledger_rub &&
      (emission.reserve_rtgs_rub === null || emission.reserve_rtgs_rub === emission.supply_rub);
    check.textContent = balanced ? "equal to the reserve" : "NOT equal to the reserve";
    check.className = "note " + (balanced ? "good" : "bad");
    // The share of the cap used, to a tenth of a percent: integer arithmetic on kopecks as BigInt.
    const used = BigInt(emission.supply_rub.replace(".", "")) + BigInt(emission.pending_mints_rub.replace(".", ""));
    const cap = BigInt(emission.emission_cap_rub.replace(".", ""));
    const permille = cap > 0n ? Number((used * 1000n) / cap) : 0;
    setText("cap-share", (permille / 10).toFixed(1) + "%");
    const bar = document.getElementById("cap-used");
    bar.style.width = Math.min(100, permille / 10) + "%";
    bar.className = permille >= 900 ? "used high" : "used";

    setText("positions-title", central ? "Positions of every bank" : "Your positions");
    showPositions(overview.positions, central);
    setText("rtgs-as-of", overview.rtgs_as_of ? dayAndClock(overview.rtgs_as_of) + " MSK" : "not read yet");
    showFlows(overview.flows);
  }

  function showPositions(positions, central) {
    const rows = [];
    for (const bank of positions) {
      bank.wallets.forEach(function (wallet, index) {
        const first = index === 0;
        rows.push(row([
          cell(first ? bank.name + " (" + bank.bic + ")" : ""),
          cell(wallet.code, "code"),
          cell(rub(wallet.posted_rub), "num"),
          cell(rub(wallet.debits_pending_rub), "num"),
          cell(rub(wallet.credits_pending_rub), "num"),
          cell(first ? bank.rtgs_account : "", "code"),
          cell(first ? rub(bank.rtgs_booked_rub) : "", "num"),
          cell(first ? rub(bank.rtgs_held_rub) : "", "num"),
        ], { "data-bic": bank.bic, "data-wallet": wallet.code, class: bank.status === "active" ? "" : "suspended" }));
      });
    }
    fill("positions", rows, "no bank to show");
    const foot = document.querySelector("#positions tfoot");
    if (central && positions.length > 1) {
      foot.replaceChildren(row([cell(count(positions.length) + " banks"), cell(""), cell(sum(positions), "num"),
        cell(""), cell(""), cell(""), cell(""), cell("")]));
    } else {
      foot.replaceChildren();
    }
  }

  // The banks' wallets together, added as kopecks in BigInt: exact whatever the size.
  function sum(positions) {
    let total = 0n;
    for (const bank of positions) total += BigInt(bank.wallets_rub.replace(".", ""));
    const digits = total.toString().padStart(3, "0");
    return rub(digits.slice(0, -2) + "." + digits.slice(-2));
  }

  function showFlows(flows) {
    fill("flows", flows.map(function (flow) {
      const m = flow.messages;
      const t = flow.transactions;
      return row([
        cell(flow.message_type, "code"),
        cell(count(flow.received), "num received"),
        cell(count(m.accepted), "num"),
        cell(count(m.partially_accepted), "num"),
        cell(count(m.warehoused), "num"),
        cell(count(m.rejected), "num rejected"),
        cell(count(t.settled.count), "num"),
        cell(rub(t.settled.amount_rub), "num settled-amount"),
        cell(count(t.rejected.count), "num"),
        cell(rub(t.rejected.amount_rub), "num"),
        cell(rub(t.pending.amount_rub), "num"),
      ], { "data-type": flow.message_type });
    }), "no message received today");
  }

  // --- lists -------------------------------------------------------------------------------------------------

  function showPending(pending) {
    fill("pending", pending.items.map(function (item) {
      return row([
        cell(item.kind === "warehoused" ? "warehoused payment" : "conversion, " + item.state.replace("_", " ")),
        cell(item.debtor, "code"),
        cell(item.creditor, "code"),
        cell(item.reference, "code"),
        cell(item.due_date),
        cell(rub(item.amount_rub), "num"),
      ], { "data-kind": item.kind });
    }), "nothing pending");
  }

  function showRejects(rejects) {
    fill("reasons", rejects.by_reason.map(function (reason) {
      return row([cell(reason.reason_code, "code"), cell(count(reason.count), "num")],
        { "data-code": reason.reason_code });
    }), "none");
    fill("rejects", rejects.recent.map(function (reject) {
      return row([
        cell(clock(reject.at)),
        cell(reject.bank || "unknown", "code"),
        cell(reject.message_type || "unreadable", "code"),
        cell(reject.reference || reject.end_to_end_id || dash, "code"),
        cell(reject.reason_code, "code"),
        cell(rub(reject.amount_rub), "num"),
      ], { "data-code": reject.reason_code, "data-kind": reject.kind });
    }), "no reject today");
  }

  function showBreaks(view) {
    setText("breaks-total", "(" + count(view.open_total) + " open)");
    fill("breaks", view.breaks.map(function (b) {
      return row([
        cell(b.kind, "code"),
        cell(b.business_date),
        cell(count(b.age_days), "num"),
        cell(b.account || dash, "code"),
        cell(rub(b.amount_rub), "num"),
        cell(rub(b.expected_rub), "num"),
        cell(references(b.references), "wrap code"),
        cell(b.description, "wrap"),
      ], { "data-kind": b.kind });
    }), "no open break");
  }

  function references(value) {
    if (value === null || value === undefined) return dash;
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.map(references).join("; ");
    if (typeof value === "object") {
      return Object.entries(value).map(function ([key, item]) { return key + " " + references(item); }).join(", ");
    }
    return String(value);
  }

  // --- charts ------------------------------------------------------------------------------------------------

  function roubles(text) {
    return text === null ? null : Number(text); // the chart's geometry only: every figure shown is the string
  }

  function compact(value) {
    const size = Math.abs(value);
    if (size >= 1e12) return (value / 1e12).toFixed(1) + "T";
    if (size >= 1e9) return (value / 1e9).toFixed(1) + "B";
    if (size >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (size >= 1e3) return (value / 1e3).toFixed(0) + "k";
    return String(value);
  }

  // The x scale is fixed, whatever the data: the business days shown with half a day either side, or today's 24
  // hours, so that one point is not stretched over the whole width and the axis never jumps.
  function xRange(hourly) {
    return function (u) {
      if (hourly) {
        const end = dayEnd === null ? Math.ceil(Date.now() / 3.6e6) * 3600 : dayEnd;
        return [end - 86400, end];
      }
      // From the data itself: uPlot widens the range of a single point by a thousand days before asking.
      const days = u.data[0];
      if (!days || days.length === 0) return [Date.now() / 1000 - 86400, Date.now() / 1000];
      return [days[0] - 43200, days[days.length - 1] + 43200];
    };
  }

  function xSplits(hourly) {
    return function (u) {
      if (!hourly) return u.data[0];
      const splits = [];
      for (let t = u.scales.x.min; t <= u.scales.x.max; t += 3 * 3600) splits.push(t);
      return splits;
    };
  }

  function chart(elementId, hourly) {
    const element = document.getElementById(elementId);
    const options = {
      width: Math.max(320, element.clientWidth),
      height: 240,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Europe/Moscow"); },
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true, range: xRange(hourly) }, rub: { range: fromZero }, volume: { range: fromZero } },
      series: [
        { label: hourly ? "Hour" : "Day", value: hourly ? "{HH}:00" : "{YYYY}-{MM}-{DD}" },
        { label: "Supply, RUB", scale: "rub", stroke: "#1f5fa8", width: 2,
          value: function (u, v) { return v === null ? dash : compact(v); } },
        { label: "Settled, RUB", scale: "volume", stroke: "#2f9e6a", fill: "rgba(47,158,106,0.35)",
          paths: uPlot.paths.bars({ size: [0.6, 48] }), points: { show: false },
          value: function (u, v) { return v === null ? dash : compact(v); } },
      ],
      axes: [
        { values: hourly ? "{HH}:00" : "{DD}.{MM}", splits: xSplits(hourly) },
        { scale: "rub", label: "Supply, RUB", values: function (u, ticks) { return ticks.map(compact); }, size: 56 },
        { scale: "volume", side: 1, label: "Settled, RUB", values: function (u, ticks) { return ticks.map(compact); },
          size: 56, grid: { show: false } },
      ],
    };
    return new uPlot(options, [[], [], []], element);
  }

  // Money scales start at zero: a supply that moved by a kopeck must not look like it doubled.
  function fromZero(u, min, max) {
    const top = max === null || max <= 0 ? 1 : max * 1.1;
    return [0, top];
  }

  function showSeries(series) {
    if (charts === null) {
      charts = { days: chart("chart-days", false), hours: chart("chart-hours", true) };
      window.addEventListener("resize", function () {
        for (const [id, plot] of [["chart-days", charts.days], ["chart-hours", charts.hours]]) {
          plot.setSize({ width: Math.max(320, document.getElementById(id).clientWidth), height: 240 });
        }
      });
    }
    const days = series.days;
    charts.days.setData([
      days.map(function (d) { return Date.parse(d.date + "T12:00:00+03:00") / 1000; }),
      days.map(function (d) { return roubles(d.supply_rub); }),
      days.map(function (d) { return roubles(d.settled_rub); }),
    ]);
    const hours = series.hours;
    charts.hours.setData([
      hours.map(function (h) { return Date.parse(h.hour) / 1000 + 1800; }),
      hours.map(function (h) { return roubles(h.supply_rub); }),
      hours.map(function (h) { return roubles(h.settled_rub); }),
    ]);
  }

  // --- polling -----------------------------------------------------------------------------------------------

  function setStatus(live, text) {
    const dot = document.getElementById("status");
    dot.className = "dot " + (live ? "live" : "stale");
    dot.title = text;
    document.body.setAttribute("data-refreshed", live ? "yes" : "failed");
  }

  function refresh() {
    return Promise.all([
      api("overview"), api("series"), api("pending"), api("rejects"), api("breaks"),
    ]).then(function ([overview, series, pending, rejects, breaks]) {
      showOverview(overview);
      showSeries(series);
      showPending(pending);
      showRejects(rejects);
      showBreaks(breaks);
      setStatus(true, "figures as of " + overview.as_of);
    }).catch(function (error) {
      // The last figures stay on the page; the dot says they are stale and why.
      setStatus(false, String(error.message || error));
    }).finally(function () {
      window.setTimeout(refresh, refreshSeconds * 1000);
    });
  }

  refresh();
})();
