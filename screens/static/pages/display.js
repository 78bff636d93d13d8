/* The "now serving" board: codes being prepared (oldest first) and codes
   ready for pickup (newest first, the newest few highlighted for a minute).
   Everything it needs is in the display channel's events:
   {id, displayCode, ticketNumber[, status]}.

   The board never scrolls. After each change, fit() picks the largest code
   size at which every code of a column fits its box; when even the smallest
   size is not enough, the oldest codes of the column give their places to
   one "+N more" tile. A ready code leaves after readyMinutes (or at once
   when picked up or cancelled). */
(function () {
  "use strict";

  const { readConfig, t, announce, h, Sound, Connection, reconcile } = window.Live;
  const config = readConfig();
  const FRESH_MS = 60000;
  const FRESH_COUNT = 3; // only the newest ready codes blink
  const EXPIRY_MAX_WAIT_MS = 60000; // look again at least this often (clock changes)
  // Code sizes tried by fill(), in px: from TV-across-the-room down to the
  // smallest still readable from a few metres, which grows with the screen
  // (45 px on a 1080p TV, 30 px on a 720p one).
  const SIZE_MAX = 160;
  const sizeMin = () => Math.max(28, Math.round(Math.min(window.innerWidth, window.innerHeight) / 24));
  const MORE_ID = "more";

  /* order id → {id, displayCode, ticketNumber, status, seq, since, freshUntil} */
  const orders = new Map();
  let sequence = 0;
  let clockOffset = 0; // server clock − this device's clock, in ms
  let readyMinutes = config.readyMinutes;

  const lists = {
    CONFIRMED: document.getElementById("preparing-list"),
    COMPLETED: document.getElementById("ready-list"),
  };
  const elements = { CONFIRMED: new Map(), COMPLETED: new Map() };

  function serverNow() {
    return Date.now() + clockOffset;
  }

  function put(data, status, since) {
    let entry = orders.get(data.id);
    if (!entry) {
      entry = { id: data.id, status: null, seq: 0, since: 0, freshUntil: 0 };
      orders.set(data.id, entry);
    }
    entry.displayCode = data.displayCode;
    entry.ticketNumber = data.ticketNumber;
    if (entry.status !== status) {
      entry.seq = ++sequence;
      entry.since = since;
      // A recalled code is no longer "just ready".
      if (status !== "COMPLETED") entry.freshUntil = 0;
    }
    entry.status = status;
    return entry;
  }

  function onState(state) {
    clockOffset = Date.parse(state.serverTime) - Date.now();
    readyMinutes = state.readyMinutes;
    orders.clear();
    for (const order of state.preparing) put(order, "CONFIRMED", Date.parse(order.since) || serverNow());
    // Oldest ready first, so the newest gets the highest sequence.
    for (const order of state.ready) put(order, "COMPLETED", Date.parse(order.since) || serverNow());
    render();
  }

  function onEvent(type, data) {
    // station-progress carries the order's status: a station's move that
    // completes (or reopens) an order reaches the board this way only.
    const status = type === "confirmed-order" ? "CONFIRMED" : data.status;
    if (status !== "CONFIRMED" && status !== "COMPLETED") {
      // Picked up or cancelled.
      if (orders.delete(data.id)) render();
      return;
    }
    const before = orders.get(data.id);
    const becameReady = status === "COMPLETED" && (!before || before.status !== "COMPLETED");
    const entry = put(data, status, serverNow());
    if (becameReady) {
      entry.freshUntil = Date.now() + FRESH_MS;
      announce(t("readyAnnounce", { code: entry.displayCode }));
      Sound.chime();
      setTimeout(render, FRESH_MS + 100);
    }
    render();
  }

  function build(entry) {
    if (entry.id === MORE_ID) return h("li", { class: "ticket more" }, [h("span", { class: "code" }, "")]);
    const label = entry.ticketNumber === null || entry.ticketNumber === undefined ? "" : `#${entry.ticketNumber}`;
    return h("li", { class: "ticket", "data-order-id": entry.id, "data-display-code": entry.displayCode }, [
      h("span", { class: "code" }, entry.displayCode),
      label ? h("span", { class: "number" }, [h("span", { class: "visually-hidden" }, t("ticket") + " "), label]) : null,
    ]);
  }

  /* Preparing: in the order of their tickets, which is the order they were
     confirmed in (a recalled code goes back to its place). Ready: newest
     first. */
  function entriesOf(status) {
    const entries = [...orders.values()].filter((entry) => entry.status === status);
    if (status === "COMPLETED") return entries.sort((a, b) => b.seq - a.seq);
    return entries.sort((a, b) => (a.ticketNumber || 0) - (b.ticketNumber || 0) || a.id - b.id);
  }

  /* Drop the ready codes older than readyMinutes, and wake up again when
     the next one is due. */
  let expiryTimer = null;
  function expire() {
    const lifetime = readyMinutes * 60000;
    const limit = serverNow() - lifetime;
    let next = Infinity;
    for (const [id, entry] of orders) {
      if (entry.status !== "COMPLETED") continue;
      if (entry.since <= limit) orders.delete(id);
      else next = Math.min(next, entry.since + lifetime);
    }
    clearTimeout(expiryTimer);
    if (next !== Infinity) expiryTimer = setTimeout(render, Math.min(next - serverNow() + 50, EXPIRY_MAX_WAIT_MS));
  }

  function overflows(list) {
    return list.scrollHeight > list.clientHeight + 1 || list.scrollWidth > list.clientWidth + 1;
  }

  /* Show `entries` in `list` at the largest size that fits; past the
     smallest, keep the first `keep` entries that fit and fold the rest into
     "+N more". `foldOldest` says which end is the old one. */
  function fill(status, entries) {
    const list = lists[status];
    const cache = elements[status];
    const show = (shown, hiddenCount) => {
      const withMore = hiddenCount > 0 ? [{ id: MORE_ID, hidden: hiddenCount }].concat(shown) : shown;
      if (status === "COMPLETED" && hiddenCount > 0) withMore.push(withMore.shift()); // "+N" after the newest
      reconcile(list, withMore, cache, build);
      const more = cache.get(MORE_ID);
      if (more) more.querySelector(".code").textContent = t("more", { count: hiddenCount });
    };
    // Largest size at which everything fits: binary search in whole pixels.
    show(entries, 0);
    let low = sizeMin();
    let high = SIZE_MAX;
    list.style.setProperty("--code-size", `${low}px`);
    if (!overflows(list)) {
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        list.style.setProperty("--code-size", `${middle}px`);
        if (overflows(list)) high = middle;
        else low = middle;
      }
      list.style.setProperty("--code-size", `${low}px`);
      return;
    }
    // Even the smallest size is too big: fold codes until the rest fits.
    // Preparing folds its oldest (the start of the list), ready its oldest
    // (the end of the list).
    let count = entries.length - 1;
    while (count > 0) {
      const shown = status === "COMPLETED" ? entries.slice(0, count) : entries.slice(entries.length - count);
      show(shown, entries.length - count);
      if (!overflows(list)) return;
      count -= 1;
    }
    show([], entries.length);
  }

  function render() {
    expire();
    const now = Date.now();
    for (const status of ["CONFIRMED", "COMPLETED"]) {
      const entries = entriesOf(status);
      fill(status, entries);
      const cache = elements[status];
      entries.forEach((entry, index) => {
        const element = cache.get(entry.id);
        if (!element) return; // folded into "+N more"
        element.classList.toggle("fresh", status === "COMPLETED" && index < FRESH_COUNT && entry.freshUntil > now);
      });
      lists[status].parentElement.classList.toggle("is-empty", entries.length === 0);
    }
  }

  Sound.setup(document.getElementById("sound-toggle"));
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 100);
  });
  new Connection({
    eventsUrl: config.eventsUrl,
    eventTypes: config.eventTypes,
    stateUrl: config.stateUrl,
    onState: onState,
    onEvent: onEvent,
  }).start();
})();
