/* The waiter pad (/waiter/): table, customer, foods, notes, send. The order
   goes to the till as PENDING (POST /v1/orders, with an Idempotency-Key kept
   with the cart until the server answers: see common.js). Waiters may not
   open event streams, so the pad asks /waiter/orders every few seconds for
   its own orders of the day and shows their codes and whether the till
   confirmed them; the menu's sold-out marks are refreshed at the same time. */
(function () {
  "use strict";

  const K = window.TillKit;
  const h = K.h;
  const config = K.readConfig();
  const L = config.labels;
  const store = new K.Store("waiter.cart." + config.userId);
  const $ = (id) => document.getElementById(id);
  // The menu is read again every this many polls.
  const MENU_EVERY = 5;

  function emptyCart() {
    return { lines: [], table: "", customer: "" };
  }

  const saved = store.load() || {};
  const state = {
    menu: { categories: [], foods: new Map() },
    category: "",
    cart: saved.cart || emptyCart(),
    outgoing: saved.outgoing || null,
    sending: false,
    polls: 0,
    nextUid: 1,
  };
  for (const line of state.cart.lines) state.nextUid = Math.max(state.nextUid, line.uid + 1);

  function persist() {
    store.save({ cart: state.cart, outgoing: state.outgoing });
  }

  function soldOut(line) {
    const food = state.menu.foods.get(line.foodId);
    return Boolean(food && !K.forSale(state.menu, food));
  }

  function locked() {
    if (state.outgoing) {
      K.notice(L.lockedCart + " " + L.networkDown, send);
      return true;
    }
    return false;
  }

  function addFood(food) {
    if (locked()) return;
    const same = state.cart.lines.find((line) => line.foodId === food.id && !line.notes);
    if (same) same.quantity = Math.min(999, same.quantity + 1);
    else state.cart.lines.push({ uid: state.nextUid++, foodId: food.id, name: food.name, quantity: 1, notes: "" });
    persist();
    renderCart();
  }

  function step(line, delta) {
    if (locked()) return;
    line.quantity = Math.max(0, Math.min(999, line.quantity + delta));
    if (!line.quantity) state.cart.lines = state.cart.lines.filter((other) => other !== line);
    persist();
    renderCart();
  }

  function problem() {
    if (!state.cart.lines.length) return L.empty;
    if (state.cart.lines.some(soldOut)) return L.soldOutInCart;
    if (!state.cart.table.trim()) return L.needTable;
    return "";
  }

  function renderMenu() {
    K.renderMenu(state.menu, state, L, addFood, "");
  }

  function renderCart() {
    if ($("table").value !== state.cart.table) $("table").value = state.cart.table;
    if ($("customer").value !== state.cart.customer) $("customer").value = state.cart.customer;
    $("cart-lines").replaceChildren(
      ...state.cart.lines.map((line) => {
        const notes = h("input", { class: "line-notes-input", "aria-label": L.notes + " " + line.name, placeholder: L.notes, maxlength: "250", value: line.notes });
        notes.addEventListener("input", () => {
          if (state.outgoing) {
            notes.value = line.notes;
            return locked();
          }
          line.notes = notes.value;
          persist();
        });
        return h("li", { class: "line" + (soldOut(line) ? " sold-out" : ""), "data-food-id": line.foodId }, [
          h("span", { class: "line-name" }, [h("strong", {}, line.quantity + " × "), line.name, soldOut(line) ? h("span", { class: "badge" }, L.soldOut) : null]),
          h("button", { type: "button", class: "step", "aria-label": L.remove + " 1 " + line.name, onclick: () => step(line, -1) }, "−"),
          h("button", { type: "button", class: "step", "aria-label": "+1 " + line.name, onclick: () => step(line, 1) }, "+"),
          notes,
        ]);
      })
    );
    $("cart-empty").textContent = state.cart.lines.length ? "" : L.empty;
    const why = state.cart.lines.length ? problem() : "";
    $("cart-problem").hidden = !why;
    $("cart-problem").textContent = why;
    const count = state.cart.lines.reduce((n, line) => n + line.quantity, 0);
    $("cart-count").textContent = K.format(L.items, { count: count });
    $("send").disabled = state.sending || (!state.outgoing && Boolean(problem()));
  }

  function statusText(order) {
    if (order.status === "PENDING") return L.pending;
    if (order.status === "CANCELLED") return L.cancelled;
    const word = { CONFIRMED: L.confirmed, COMPLETED: L.completed, PICKED_UP: L.pickedUp }[order.status] || order.status;
    return word + " · " + K.format(L.ticket, { number: order.ticketNumber });
  }

  function renderMine(orders) {
    $("mine").replaceChildren(
      ...(orders.length
        ? orders.map((order) =>
            h("li", { class: "mine-order status-" + order.status.toLowerCase(), "data-display-code": order.displayCode }, [
              h("strong", { class: "code" }, order.displayCode),
              h("span", {}, order.table + " · " + order.customer),
              h("span", { class: "state" }, statusText(order)),
            ])
          )
        : [h("li", { class: "hint" }, L.noMine)])
    );
  }

  async function poll() {
    state.polls += 1;
    try {
      if (state.polls % MENU_EVERY === 1) {
        const menu = await K.loadMenu();
        if (menu.result.ok) {
          state.menu = menu;
          renderMenu();
          renderCart();
        }
      }
      const result = await K.api("GET", config.mineUrl);
      if (result.status === 401 || result.status === 403) {
        if (!state.outgoing) window.location.reload();
        return;
      }
      if (result.ok) renderMine(result.body.orders);
      document.body.dataset.connection = "live";
    } catch (error) {
      document.body.dataset.connection = "lost";
    }
  }

  async function send() {
    if (state.sending) return;
    if (!state.outgoing) {
      if (problem()) return renderCart();
      const lines = state.cart.lines.map((line) => (line.notes.trim() ? { foodId: line.foodId, quantity: line.quantity, notes: line.notes.trim() } : { foodId: line.foodId, quantity: line.quantity }));
      state.outgoing = {
        key: K.newKey(),
        madeAt: Date.now(),
        method: "POST",
        url: "/v1/orders",
        body: { table: state.cart.table.trim(), customer: state.cart.customer.trim() || L.customerDefault, orderItems: lines },
      };
      persist();
    }
    state.sending = true;
    $("send").textContent = L.sending;
    renderCart();
    const outcome = await K.sendOutgoing(state.outgoing, config.keyHours);
    state.sending = false;
    $("send").textContent = $("send").dataset.label;
    if (outcome.kind === "done") {
      state.outgoing = null;
      state.cart = emptyCart();
      persist();
      K.notice(null);
      const last = $("last-sent");
      last.textContent = K.format(L.sent, { code: outcome.result.body.displayCode });
      last.hidden = false;
      state.polls = 1; // the next poll reads the orders, not the menu
      poll();
    } else if (outcome.kind === "refused") {
      state.outgoing = null;
      persist();
      K.notice(K.format(L.refused, { message: K.problemText(outcome.result) }));
      state.polls = 0; // a sold-out food is the likely cause: read the menu next
      poll();
    } else {
      if (outcome.kind === "expired") K.notice(K.format(L.expired, { hours: config.keyHours }));
      else K.notice(outcome.kind === "signed-out" ? L.signedOut : L.networkDown, send);
    }
    renderCart();
  }

  function bind() {
    $("send").dataset.label = $("send").textContent;
    for (const id of ["table", "customer"]) {
      $(id).addEventListener("input", (event) => {
        if (state.outgoing) {
          event.target.value = state.cart[id];
          return locked();
        }
        state.cart[id] = event.target.value;
        persist();
        renderCart();
      });
    }
    $("send").addEventListener("click", send);
    $("notice-close").addEventListener("click", () => K.notice(null));
  }

  bind();
  renderMenu();
  renderCart();
  if (state.outgoing) {
    if (K.tooOld(state.outgoing, config.keyHours)) K.notice(K.format(L.expired, { hours: config.keyHours }));
    else K.notice(L.inDoubt, send);
  }
  poll();
  setInterval(poll, config.pollSeconds * 1000);
})();
