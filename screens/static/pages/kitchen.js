/* The kitchen display: orders still to make as cards, oldest first, in
   columns that fill without gaps; a sticky header with the counts, what is
   left to make (the all-day summary) and a strip of what was just finished.

   Two views of the same orders:
   - all stations (/kitchen/): "Bump" completes the whole order; the strip
     offers "Recall" (back to the kitchen) and "Picked up" (off the board);
     each card shows how far every station is;
   - one station (?station=<id>): the card shows only the station's lines;
     "Done" marks them made, and the order is ready when every station with
     lines in it is done; the strip offers "Undo" for this station's mark.

   Statuses and station progress come from the snapshot and the display
   channel's events, in order; the lines of an order the page has not seen
   come from /kitchen/orders/<id> (the event says only which order). The
   answer to an action is not applied here: the event that follows is, so
   every screen changes the same way and in the same order. */
(function () {
  "use strict";

  const { readConfig, t, request, refused, sessionGone, announce, h, Sound, Connection, reconcile } = window.Live;
  const config = readConfig();
  const station = config.stationId; // null on the all-stations view
  const CARD_RETRY_MS = 2000;
  const AGE_TICK_MS = 5000;
  const SHOWN = new Set(["CONFIRMED", "COMPLETED"]);

  /* order id → {id, status, displayCode, ticketNumber, stations, card, bumpedSeq, isNew}.
     `card` is the server's kitchen card (lines, table …), null until loaded;
     `stations` the latest progress of every station of the order. */
  const orders = new Map();
  let sequence = 0;
  let clockOffset = 0; // server clock − this device's clock, in ms
  let lateMinutes = config.lateMinutes;
  let veryLateMinutes = config.veryLateMinutes;

  const cardsBox = document.getElementById("cards");
  const recallList = document.getElementById("recall-list");
  const summaryList = document.getElementById("summary-list");
  const cardElements = new Map();
  const recallElements = new Map();

  function ticketLabel(entry) {
    return entry.ticketNumber === null || entry.ticketNumber === undefined ? "" : `#${entry.ticketNumber}`;
  }

  function describe(entry) {
    const ticket = ticketLabel(entry);
    return ticket ? t("orderWithTicket", { code: entry.displayCode, ticket: ticket }) : t("order", { code: entry.displayCode });
  }

  // --- state -----------------------------------------------------------------------

  function myStation(entry) {
    return (entry.stations || []).find((item) => item.stationId === station) || null;
  }

  /* Finished as far as this view is concerned. */
  function doneHere(entry) {
    if (entry.status !== "CONFIRMED") return true;
    if (!station) return false;
    const mine = myStation(entry);
    return Boolean(mine && mine.done);
  }

  /* Belongs in the strip: bumped (all stations), or marked by this station. */
  function inStrip(entry) {
    if (!SHOWN.has(entry.status)) return false;
    if (!station) return entry.status === "COMPLETED";
    const mine = myStation(entry);
    return Boolean(mine && mine.doneAt);
  }

  function fromCard(card) {
    return {
      id: card.id,
      status: card.status,
      displayCode: card.displayCode,
      ticketNumber: card.ticketNumber,
      stations: card.stations,
      card: card,
      bumpedSeq: 0,
      isNew: false,
    };
  }

  function onState(state) {
    clockOffset = Date.parse(state.serverTime) - Date.now();
    lateMinutes = state.lateMinutes;
    veryLateMinutes = state.veryLateMinutes;
    orders.clear();
    for (const card of state.orders) orders.set(card.id, fromCard(card));
    // The server lists the finished ones newest first.
    for (const card of state.recall.slice().reverse()) {
      const entry = fromCard(card);
      entry.bumpedSeq = ++sequence;
      orders.set(card.id, entry);
    }
    render();
  }

  function onEvent(type, data) {
    const status = type === "confirmed-order" ? "CONFIRMED" : data.status;
    let entry = orders.get(data.id);
    if (!SHOWN.has(status)) {
      // Picked up or cancelled: no longer the kitchen's business.
      if (entry) {
        orders.delete(data.id);
        render();
      }
      return;
    }
    if (!entry) {
      entry = {
        id: data.id,
        status: null,
        displayCode: data.displayCode,
        ticketNumber: data.ticketNumber,
        stations: null,
        card: null,
        bumpedSeq: 0,
        isNew: type === "confirmed-order",
      };
      orders.set(data.id, entry);
      loadCard(entry);
    }
    const wasInStrip = entry.status !== null && inStrip(entry);
    entry.status = status;
    if (data.stations) entry.stations = data.stations;
    if (!wasInStrip && inStrip(entry)) entry.bumpedSeq = ++sequence;
    forgetOldBumps();
    render();
  }

  /* Keep as many finished orders as the strip shows, like the server. */
  function forgetOldBumps() {
    const finished = [...orders.values()].filter((entry) => doneHere(entry));
    finished.sort((a, b) => b.bumpedSeq - a.bumpedSeq);
    for (const entry of finished.slice(config.recallLimit)) orders.delete(entry.id);
  }

  async function loadCard(entry) {
    let result;
    try {
      result = await request("GET", config.ordersUrl + entry.id + config.stationQuery);
    } catch (error) {
      result = null;
    }
    if (orders.get(entry.id) !== entry) return; // gone meanwhile, or a new snapshot
    if (result && refused(result)) return sessionGone();
    if (result && result.status === 404) {
      orders.delete(entry.id);
      return render();
    }
    if (!result || !result.ok) {
      setTimeout(() => {
        if (orders.get(entry.id) === entry) loadCard(entry);
      }, CARD_RETRY_MS);
      return;
    }
    if (!result.body.forStation) {
      // Nothing for this station: never shown here. A later event about it
      // asks again, which costs one small request.
      orders.delete(entry.id);
      return;
    }
    entry.card = result.body;
    if (!entry.stations) entry.stations = entry.card.stations;
    if (entry.isNew && entry.status === "CONFIRMED") {
      const card = entry.card;
      announce(t(card.lines.length === 1 ? "newOrderOneLine" : "newOrderLines", { order: describe(entry), table: card.table, count: card.lines.length }));
      Sound.chime();
    }
    entry.isNew = false;
    render();
  }

  // --- rendering -----------------------------------------------------------------------

  function minutesSince(timestamp) {
    if (!timestamp) return 0;
    return Math.max(0, Math.floor((Date.now() + clockOffset - Date.parse(timestamp)) / 60000));
  }

  function buildCard(entry) {
    const card = entry.card;
    const titleId = `card-${card.id}-title`;
    const action = station
      ? h("button", { type: "button", class: "bump", "aria-label": t("doneAtLabel", { order: describe(entry), station: config.stationName }) }, t("doneAt", { station: config.stationName }))
      : h("button", { type: "button", class: "bump", "aria-label": t("bumpLabel", { order: describe(entry) }) }, t("bump"));
    action.addEventListener("click", () => act(entry, station ? `stations/${encodeURIComponent(station)}/done` : "bump", action));
    const lines = card.lines.map((line) =>
      h("li", {}, [
        h("span", { class: "qty" }, `${line.quantity}×`),
        " ",
        h("span", { class: "food" }, line.name),
        line.notes ? h("span", { class: "note" }, [h("span", { class: "note-label" }, t("note") + " "), line.notes]) : null,
      ])
    );
    const ticket = ticketLabel(entry);
    return h(
      "article",
      { class: "card", "data-order-id": card.id, "data-display-code": card.displayCode, "aria-labelledby": titleId },
      [
        h("header", { class: "card-head" }, [
          h("h3", { id: titleId }, [
            h("span", { class: "code" }, card.displayCode),
            ticket ? " " : null,
            ticket ? h("span", { class: "ticket" }, [h("span", { class: "visually-hidden" }, t("ticket") + " "), ticket]) : null,
          ]),
          h("p", { class: "age" }, [h("span", { class: "late-label" }, ""), h("span", { class: "minutes" }, "")]),
        ]),
        h("p", { class: "meta" }, [
          h("span", { class: "table" }, t("table", { table: card.table })),
          " · ",
          h("span", { class: "customer" }, card.customer),
        ]),
        h("ul", { class: "lines" }, lines),
        card.otherStationLines ? h("p", { class: "other" }, t("otherStations", { count: card.otherStationLines })) : null,
        h("ul", { class: "progress", "aria-label": t("stations") }),
        action,
      ]
    );
  }

  /* The per-station chips of a card (all stations: every card; a station:
     the other stations of a shared order). */
  function updateProgress(element, entry) {
    const list = element.querySelector(".progress");
    const stations = (entry.stations || []).filter((item) => item.stationId !== station);
    const shown = station ? stations : entry.stations || [];
    const key = JSON.stringify(shown.map((item) => [item.stationId, item.done]));
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    list.replaceChildren(
      ...shown.map((item) =>
        h("li", { class: item.done ? "done" : "todo", "data-station-id": item.stationId }, [
          item.name,
          " ",
          h("span", { class: "mark" }, item.done ? t("stationDone") : t("stationMaking")),
        ])
      )
    );
    list.hidden = shown.length === 0 || (!station && shown.length < 2);
  }

  function buildRecallItem(entry) {
    const buttons = [];
    if (station) {
      const undo = h("button", { type: "button", class: "recall-button", "aria-label": t("undoLabel", { order: describe(entry) }) }, t("undo"));
      undo.addEventListener("click", () => act(entry, `stations/${encodeURIComponent(station)}/undo`, undo));
      buttons.push(undo);
    } else {
      const recall = h("button", { type: "button", class: "recall-button", "aria-label": t("recallLabel", { order: describe(entry) }) }, t("recall"));
      recall.addEventListener("click", () => act(entry, "recall", recall));
      const pickup = h("button", { type: "button", class: "pickup-button", "aria-label": t("pickupLabel", { order: describe(entry) }) }, t("pickup"));
      pickup.addEventListener("click", () => act(entry, "pickup", pickup));
      buttons.push(recall);
      if (config.mayPickUp !== false) buttons.push(pickup); // a cook bumps; the counter hands out
    }
    return h("li", { "data-order-id": entry.id, "data-display-code": entry.displayCode }, [
      h("span", { class: "code" }, entry.displayCode),
      ...buttons,
    ]);
  }

  function byConfirmation(a, b) {
    return Date.parse(a.card.confirmedAt) - Date.parse(b.card.confirmedAt) || a.id - b.id;
  }

  /* "12 × Margherita" for every dish still to make, per station. */
  function renderSummary(waiting) {
    const names = new Map();
    for (const entry of waiting) for (const item of entry.stations || []) names.set(item.stationId, item.name);
    const totals = new Map(); // "station\u0000dish" → {station, dish, quantity}
    for (const entry of waiting) {
      const done = new Set((entry.stations || []).filter((item) => item.done).map((item) => item.stationId));
      for (const line of entry.card.lines) {
        if (line.stationId && done.has(line.stationId)) continue;
        const stationName = station ? "" : names.get(line.stationId) || t("noStation");
        const key = `${stationName}\u0000${line.name}`;
        const total = totals.get(key) || { station: stationName, dish: line.name, quantity: 0 };
        total.quantity += line.quantity;
        totals.set(key, total);
      }
    }
    const rows = [...totals.values()].sort(
      (a, b) => a.station.localeCompare(b.station) || b.quantity - a.quantity || a.dish.localeCompare(b.dish)
    );
    // One group per station: "Kitchen: 12 × Margherita, 3 × Diavola".
    const groups = [];
    for (const row of rows) {
      if (!groups.length || groups[groups.length - 1].station !== row.station) groups.push({ station: row.station, rows: [] });
      groups[groups.length - 1].rows.push(row);
    }
    summaryList.replaceChildren(
      ...groups.map((group) =>
        h("li", {}, [
          group.station ? h("span", { class: "summary-station" }, `${group.station}: `) : null,
          ...group.rows.flatMap((row, index) => [index ? ", " : null, h("strong", {}, `${row.quantity} ×`), ` ${row.dish}`]),
        ])
      )
    );
    document.getElementById("summary-empty").hidden = rows.length > 0;
  }

  function render() {
    const all = [...orders.values()].filter((entry) => entry.card);
    const waiting = all.filter((entry) => !doneHere(entry)).sort(byConfirmation);
    const finished = all
      .filter((entry) => inStrip(entry))
      .sort((a, b) => b.bumpedSeq - a.bumpedSeq)
      .slice(0, config.recallLimit);
    reconcile(cardsBox, waiting, cardElements, buildCard);
    reconcile(recallList, finished, recallElements, buildRecallItem);
    for (const entry of waiting) updateProgress(cardElements.get(entry.id), entry);
    document.getElementById("orders-empty").hidden = waiting.length > 0;
    document.getElementById("recall-empty").hidden = finished.length > 0;
    document.getElementById("order-count").textContent = t(waiting.length === 1 ? "oneOrder" : "orders", { count: waiting.length });
    renderSummary(waiting);
    updateAges();
    updateOffscreen();
  }

  function updateAges() {
    for (const [id, element] of cardElements) {
      const entry = orders.get(id);
      if (!entry || !entry.card) continue;
      const minutes = minutesSince(entry.card.confirmedAt);
      const veryLate = minutes >= veryLateMinutes;
      const late = !veryLate && minutes >= lateMinutes;
      element.classList.toggle("late", late);
      element.classList.toggle("very-late", veryLate);
      element.querySelector(".late-label").textContent = veryLate ? t("veryLate") + " " : late ? t("late") + " " : "";
      element.querySelector(".minutes").textContent = t("minutes", { count: minutes });
    }
  }

  /* How many cards are not wholly on screen (under the sticky header, or
     below the bottom edge): the cook knows there is more to scroll to. */
  function updateOffscreen() {
    const top = document.getElementById("topbar").getBoundingClientRect().bottom;
    const bottom = window.innerHeight;
    let hidden = 0;
    for (const element of cardElements.values()) {
      const box = element.getBoundingClientRect();
      if (box.top < top - 1 || box.bottom > bottom + 1) hidden += 1;
    }
    const label = document.getElementById("offscreen-count");
    label.hidden = hidden === 0;
    label.textContent = hidden ? t("offscreen", { count: hidden }) : "";
    label.dataset.count = String(hidden);
  }

  // --- actions ---------------------------------------------------------------------

  function notice(text) {
    const box = document.getElementById("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => {
      box.hidden = true;
    }, 8000);
  }

  /* When the focused card goes away, focus the next card's button (or the
     previous one) instead of leaving a keyboard user at the top of the page. */
  function keepFocusNear(element) {
    if (!element || !element.contains(document.activeElement)) return;
    const neighbour = element.nextElementSibling || element.previousElementSibling;
    const target = neighbour && neighbour.querySelector("button");
    if (!target) return;
    const observer = new MutationObserver(() => {
      if (!element.isConnected) {
        observer.disconnect();
        if (target.isConnected) target.focus();
      }
    });
    observer.observe(element.parentElement, { childList: true });
    setTimeout(() => observer.disconnect(), 10000);
  }

  const PAST = { bump: "bumped", recall: "recalled", pickup: "pickedUp", done: "done", undo: "undone" };

  async function act(entry, path, button) {
    const verb = path.split("/").pop();
    const element = button.closest("article, li");
    button.disabled = true;
    element.classList.add("pending");
    let result = null;
    try {
      result = await request("POST", `${config.ordersUrl}${entry.id}/${path}`);
    } catch (error) {
      notice(t("noConnection", { order: describe(entry) }));
    }
    button.disabled = false;
    element.classList.remove("pending");
    if (!result) return;
    if (refused(result)) return sessionGone();
    if (result.ok) {
      keepFocusNear(element);
      announce(t(PAST[verb], { order: describe(entry) }));
    } else if (result.status === 409) {
      notice(t("conflict", { order: describe(entry), message: (result.body && result.body.message) || t("changedElsewhere") }));
    } else {
      notice(t("failed", { order: describe(entry), message: (result.body && result.body.message) || result.status }));
    }
  }

  // --- start -----------------------------------------------------------------------------

  Sound.setup(document.getElementById("sound-toggle"));
  setInterval(updateAges, AGE_TICK_MS);
  window.addEventListener("scroll", updateOffscreen, { passive: true });
  window.addEventListener("resize", updateOffscreen);
  new Connection({
    eventsUrl: config.eventsUrl,
    eventTypes: config.eventTypes,
    stateUrl: config.stateUrl,
    onState: onState,
    onEvent: onEvent,
  }).start();
})();
