/* The kitchen display: confirmed orders as cards, oldest first; bump one to
   mark it ready (CONFIRMED → COMPLETED); recall one of the last bumped ones.

   Statuses come from the snapshot and the display channel's events, in
   order; the lines of an order the page has not seen come from
   /kitchen/orders/<id> (the event says only which order). The answer to a
   bump or a recall is not applied here: the event that follows is, so every
   screen changes the same way and in the same order. */
(function () {
  "use strict";

  const { readConfig, request, refused, sessionGone, announce, h, Sound, Connection, reconcile } = window.Live;
  const config = readConfig();
  const CARD_RETRY_MS = 2000;
  const AGE_TICK_MS = 5000;
  const SHOWN = new Set(["CONFIRMED", "COMPLETED"]);

  /* order id → {id, status, displayCode, ticketNumber, card, bumpedSeq, isNew}.
     `card` is the server's kitchen card (lines, table …), null until loaded. */
  const orders = new Map();
  let sequence = 0;
  let clockOffset = 0; // server clock − this device's clock, in ms
  let lateMinutes = 15;

  const cardsBox = document.getElementById("cards");
  const recallList = document.getElementById("recall-list");
  const cardElements = new Map();
  const recallElements = new Map();

  function ticketLabel(entry) {
    return entry.ticketNumber === null || entry.ticketNumber === undefined ? entry.displayCode : `#${entry.ticketNumber}`;
  }

  function describe(entry) {
    return `ticket ${ticketLabel(entry)}, code ${entry.displayCode}`;
  }

  // --- state -----------------------------------------------------------------------

  function fromCard(card) {
    return {
      id: card.id,
      status: card.status,
      displayCode: card.displayCode,
      ticketNumber: card.ticketNumber,
      card: card,
      bumpedSeq: 0,
      isNew: false,
    };
  }

  function onState(state) {
    clockOffset = Date.parse(state.serverTime) - Date.now();
    lateMinutes = state.lateMinutes;
    orders.clear();
    for (const card of state.orders) orders.set(card.id, fromCard(card));
    // The server lists the bumped ones newest first.
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
        card: null,
        bumpedSeq: 0,
        isNew: type === "confirmed-order",
      };
      orders.set(data.id, entry);
      loadCard(entry);
    }
    if (status === "COMPLETED" && entry.status !== "COMPLETED") entry.bumpedSeq = ++sequence;
    entry.status = status;
    forgetOldBumps();
    render();
  }

  /* Keep as many bumped orders as the recall list shows, like the server. */
  function forgetOldBumps() {
    const bumped = [...orders.values()].filter((entry) => entry.status === "COMPLETED");
    bumped.sort((a, b) => b.bumpedSeq - a.bumpedSeq);
    for (const entry of bumped.slice(config.recallLimit)) orders.delete(entry.id);
  }

  async function loadCard(entry) {
    let result;
    try {
      result = await request("GET", config.ordersUrl + entry.id + config.printerQuery);
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
    if (entry.isNew && entry.status === "CONFIRMED") {
      const card = entry.card;
      announce(`New order: ${describe(entry)}, table ${card.table}, ${card.lines.length} ${card.lines.length === 1 ? "line" : "lines"}.`);
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
    const bump = h("button", { type: "button", class: "bump", "aria-label": `Bump ${describe(entry)}: mark ready` }, "Bump · ready");
    bump.addEventListener("click", () => changeStatus(entry, "bump", bump));
    const lines = card.lines.map((line) =>
      h("li", {}, [
        h("span", { class: "qty" }, `${line.quantity}×`),
        " ",
        h("span", { class: "food" }, line.name),
        line.notes ? h("span", { class: "note" }, [h("span", { class: "note-label" }, "Note: "), line.notes]) : null,
      ])
    );
    return h(
      "article",
      { class: "card", "data-order-id": card.id, "data-display-code": card.displayCode, "aria-labelledby": titleId },
      [
        h("header", { class: "card-head" }, [
          h("h3", { id: titleId }, [
            h("span", { class: "ticket" }, ticketLabel(entry)),
            " ",
            h("span", { class: "code" }, card.displayCode),
          ]),
          h("p", { class: "age" }, [h("span", { class: "late-label" }, "LATE "), h("span", { class: "minutes" }, "")]),
        ]),
        h("p", { class: "meta" }, [
          h("span", { class: "table" }, `Table ${card.table}`),
          " · ",
          h("span", { class: "customer" }, card.customer),
        ]),
        h("ul", { class: "lines" }, lines),
        card.otherStationLines
          ? h("p", { class: "other" }, `+ ${card.otherStationLines} more for other stations`)
          : null,
        bump,
      ]
    );
  }

  function buildRecallItem(entry) {
    const button = h("button", { type: "button", class: "recall-button", "aria-label": `Recall ${describe(entry)}` }, "Recall");
    button.addEventListener("click", () => changeStatus(entry, "recall", button));
    return h("li", { "data-order-id": entry.id, "data-display-code": entry.displayCode }, [
      h("span", { class: "recall-label" }, [
        h("span", { class: "ticket" }, ticketLabel(entry)),
        " ",
        h("span", { class: "code" }, entry.displayCode),
        " ",
        h("span", { class: "table" }, `Table ${entry.card.table}`),
      ]),
      button,
    ]);
  }

  function byConfirmation(a, b) {
    return Date.parse(a.card.confirmedAt) - Date.parse(b.card.confirmedAt) || a.id - b.id;
  }

  function render() {
    const all = [...orders.values()].filter((entry) => entry.card);
    const waiting = all.filter((entry) => entry.status === "CONFIRMED").sort(byConfirmation);
    const bumped = all
      .filter((entry) => entry.status === "COMPLETED")
      .sort((a, b) => b.bumpedSeq - a.bumpedSeq)
      .slice(0, config.recallLimit);
    reconcile(cardsBox, waiting, cardElements, buildCard);
    reconcile(recallList, bumped, recallElements, buildRecallItem);
    document.getElementById("orders-empty").hidden = waiting.length > 0;
    document.getElementById("recall-empty").hidden = bumped.length > 0;
    updateAges();
  }

  function updateAges() {
    for (const [id, element] of cardElements) {
      const entry = orders.get(id);
      if (!entry || !entry.card) continue;
      const minutes = minutesSince(entry.card.confirmedAt);
      const late = minutes >= lateMinutes;
      element.classList.toggle("late", late);
      element.querySelector(".minutes").textContent = `${minutes} min`;
    }
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

  async function changeStatus(entry, action, button) {
    const element = button.closest("article, li");
    button.disabled = true;
    element.classList.add("pending");
    let result = null;
    try {
      result = await request("POST", `${config.ordersUrl}${entry.id}/${action}`);
    } catch (error) {
      notice(`No connection: ${describe(entry)} was not ${action === "bump" ? "bumped" : "recalled"}. Try again.`);
    }
    button.disabled = false;
    element.classList.remove("pending");
    if (!result) return;
    if (refused(result)) return sessionGone();
    if (result.ok) {
      keepFocusNear(element);
      announce(action === "bump" ? `Bumped ${describe(entry)}.` : `Recalled ${describe(entry)}.`);
    } else if (result.status === 409) {
      notice(`${describe(entry)} was already changed on another screen.`);
    } else {
      notice(`Could not ${action} ${describe(entry)} (${(result.body && result.body.message) || result.status}).`);
    }
  }

  // --- start -----------------------------------------------------------------------------

  Sound.setup(document.getElementById("sound-toggle"));
  setInterval(updateAges, AGE_TICK_MS);
  new Connection({
    eventsUrl: config.eventsUrl,
    eventTypes: config.eventTypes,
    stateUrl: config.stateUrl,
    onState: onState,
    onEvent: onEvent,
  }).start();
})();
