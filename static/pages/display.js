/* The "now serving" board: codes being prepared, and codes ready for pickup
   (newest first, highlighted for a minute). Everything it needs is in the
   display channel's events: {id, displayCode, ticketNumber[, status]}. */
(function () {
  "use strict";

  const { readConfig, announce, h, Sound, Connection, reconcile } = window.Live;
  const config = readConfig();
  const FRESH_MS = 60000;

  /* order id → {id, displayCode, ticketNumber, status, seq, freshUntil} */
  const orders = new Map();
  let sequence = 0;

  const lists = {
    CONFIRMED: document.getElementById("preparing-list"),
    COMPLETED: document.getElementById("ready-list"),
  };
  const elements = { CONFIRMED: new Map(), COMPLETED: new Map() };

  function put(data, status) {
    let entry = orders.get(data.id);
    if (!entry) {
      entry = { id: data.id, status: null, seq: 0, freshUntil: 0 };
      orders.set(data.id, entry);
    }
    entry.displayCode = data.displayCode;
    entry.ticketNumber = data.ticketNumber;
    if (entry.status !== status) entry.seq = ++sequence;
    entry.status = status;
    return entry;
  }

  function onState(state) {
    orders.clear();
    for (const order of state.preparing) put(order, "CONFIRMED");
    // Oldest ready first, so the newest gets the highest sequence.
    for (const order of state.ready) put(order, "COMPLETED");
    render();
  }

  function onEvent(type, data) {
    const status = type === "confirmed-order" ? "CONFIRMED" : data.status;
    if (status !== "CONFIRMED" && status !== "COMPLETED") {
      // Picked up or cancelled.
      if (orders.delete(data.id)) render();
      return;
    }
    const before = orders.get(data.id);
    const becameReady = status === "COMPLETED" && (!before || before.status !== "COMPLETED");
    const entry = put(data, status);
    if (becameReady) {
      entry.freshUntil = Date.now() + FRESH_MS;
      announce(`Order ${entry.displayCode} is ready for pickup.`);
      Sound.chime();
      setTimeout(render, FRESH_MS + 100);
    }
    render();
  }

  function build(entry) {
    const label = entry.ticketNumber === null || entry.ticketNumber === undefined ? "" : `#${entry.ticketNumber}`;
    return h("li", { class: "ticket", "data-order-id": entry.id, "data-display-code": entry.displayCode }, [
      h("span", { class: "code" }, entry.displayCode),
      label ? h("span", { class: "number" }, [h("span", { class: "visually-hidden" }, "ticket "), label]) : null,
    ]);
  }

  function render() {
    const now = Date.now();
    for (const status of ["CONFIRMED", "COMPLETED"]) {
      const list = lists[status];
      const cache = elements[status];
      const entries = [...orders.values()].filter((entry) => entry.status === status);
      // Preparing: in the order they were confirmed. Ready: newest first.
      entries.sort((a, b) => (status === "COMPLETED" ? b.seq - a.seq : a.seq - b.seq));
      reconcile(list, entries, cache, build);
      for (const entry of entries) cache.get(entry.id).classList.toggle("fresh", entry.freshUntil > now);
      list.parentElement.classList.toggle("is-empty", entries.length === 0);
    }
  }

  Sound.setup(document.getElementById("sound-toggle"));
  new Connection({
    eventsUrl: config.eventsUrl,
    eventTypes: config.eventTypes,
    stateUrl: config.stateUrl,
    onState: onState,
    onEvent: onEvent,
  }).start();
})();
