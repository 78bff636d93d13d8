/* The till (/till/): menu, cart, payment, the waiters' pending orders, the
   day's orders, the drawer and the day's closure, on the public REST API and
   the `cashier` event stream (till/views.py is the server half; common.js
   holds the never-twice sender).

   Live state: the page opens /events/cashier; once the stream is open it
   reads the menu and the pending orders (the stream's position was taken
   before its headers were sent, so the snapshot is at least that new). Events
   heard before the snapshot is in are held and applied after it: every
   event carries an absolute state (an order's whole representation, a
   food's `available`), so one seen twice changes nothing. The browser
   reconnects a dropped stream with Last-Event-ID and the server replays what
   was missed; a stream that is closed for good, or a stream-reset, starts
   over with a new stream and a new snapshot. */
(function () {
  "use strict";

  const K = window.TillKit;
  const h = K.h;
  const config = K.readConfig();
  const L = config.labels;
  const store = new K.Store("till.cart." + config.userId);
  const REGISTER_KEY = "till.register." + config.userId;
  const EVENT_TYPES = ["new-order", "confirmed-order", "order-status-update", "order-cancelled", "food-availability-changed", "category-availability-changed"];

  const $ = (id) => document.getElementById(id);

  function emptyCart() {
    return { lines: [], table: "", customer: "", discount: "", orderId: null, code: null, dirty: false };
  }

  const saved = store.load() || {};
  const state = {
    menu: { categories: [], foods: new Map() },
    category: "",
    cart: saved.cart || emptyCart(),
    outgoing: saved.outgoing || null,
    payment: null,
    pending: new Map(),
    editing: null,
    sending: false,
    nextUid: 1,
  };
  for (const line of state.cart.lines) state.nextUid = Math.max(state.nextUid, line.uid + 1);

  function persist() {
    store.save({ cart: state.cart, outgoing: state.outgoing });
  }

  // --- cart arithmetic (a preview: the server computes the real totals) ---------------------

  // A line's surcharge: the extra charge typed for the line, plus each extra
  // ingredient's surcharge (charged per unit by the till; the server adds
  // nothing by itself) times the quantity; null while the typed one is invalid.
  function lineSurcharge(line) {
    const typed = K.toCents(line.surcharge);
    if (typed === null) return null;
    const food = state.menu.foods.get(line.foodId);
    const ingredients = new Map(((food && food.ingredients) || []).map((item) => [item.id, item]));
    let perUnit = 0;
    for (const [id, mod] of Object.entries(line.mods || {})) {
      const ingredient = ingredients.get(id);
      if (mod === "extra" && ingredient) perUnit += K.toCents(ingredient.surcharge) || 0;
    }
    return typed + perUnit * line.quantity;
  }

  function lineNotes(line) {
    const food = state.menu.foods.get(line.foodId);
    const names = new Map(((food && food.ingredients) || []).map((item) => [item.id, item.name]));
    const parts = Object.entries(line.mods || {}).map(([id, mod]) => K.format(mod === "no" ? L.without : L.extra, { name: names.get(id) || id }));
    if (line.notes && line.notes.trim()) parts.push(line.notes.trim());
    return parts.join(", ").slice(0, 250);
  }

  function totals() {
    let sub = 0;
    let extra = 0;
    for (const line of state.cart.lines) {
      sub += line.quantity * line.priceCents;
      extra += lineSurcharge(line) || 0;
    }
    const discount = K.toCents(state.cart.discount) || 0;
    return { sub: sub, extra: extra, discount: discount, total: Math.max(sub + extra - discount, 0) };
  }

  /* Why the cart cannot be paid now, or "". */
  function cartProblem() {
    const cart = state.cart;
    if (!cart.lines.length) return L.empty;
    if (cart.lines.some((line) => soldOut(line))) return L.soldOutInCart;
    if (K.toCents(cart.discount) === null) return L.discount + ": ?";
    if (cart.lines.some((line) => lineSurcharge(line) === null)) return L.extra.replace("{name}", "") + ": ?";
    return "";
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
    closeDone();
    const cart = state.cart;
    const same = cart.lines.find((line) => line.foodId === food.id && !line.notes && !Object.keys(line.mods || {}).length && !lineSurcharge(line));
    if (same) same.quantity = Math.min(999, same.quantity + 1);
    else cart.lines.push({ uid: state.nextUid++, foodId: food.id, name: food.name, priceCents: food.priceCents, quantity: 1, notes: "", surcharge: "", mods: {} });
    if (cart.orderId) cart.dirty = true;
    persist();
    renderCart();
  }

  function changeQuantity(line, delta) {
    if (locked()) return;
    line.quantity = Math.max(0, Math.min(999, line.quantity + delta));
    if (line.quantity === 0) state.cart.lines = state.cart.lines.filter((other) => other !== line);
    if (state.cart.orderId) state.cart.dirty = true;
    persist();
    renderCart();
  }

  function clearCart() {
    if (state.outgoing) {
      // The order may have reached the server: never drop it silently.
      if (!window.confirm(L.discardInDoubt)) return;
      state.outgoing = null;
    }
    state.cart = emptyCart();
    persist();
    K.notice(null);
    renderAll();
  }

  // --- rendering ---------------------------------------------------------------------------

  function renderMenu() {
    K.renderMenu(state.menu, state, L, addFood, $("food-search").value);
  }

  function renderCart() {
    const cart = state.cart;
    // Only when it differs: rewriting a field being typed in would move its caret.
    if ($("table").value !== cart.table) $("table").value = cart.table;
    // A waiter's order keeps its table: confirming can change the customer, not the table.
    $("table").disabled = Boolean(cart.orderId);
    if ($("customer").value !== cart.customer) $("customer").value = cart.customer;
    if (document.activeElement !== $("discount")) $("discount").value = cart.discount;
    $("cart-origin").textContent = cart.code ? "· " + cart.code : "";
    $("cart-lines").replaceChildren(
      ...cart.lines.map((line) => {
        const out = soldOut(line);
        const notes = lineNotes(line);
        const surcharge = lineSurcharge(line) || 0;
        return h("li", { class: "line" + (out ? " sold-out" : ""), "data-food-id": line.foodId }, [
          h("button", { type: "button", class: "line-main", onclick: () => openLine(line) }, [
            h("span", { class: "line-name" }, [h("strong", {}, line.quantity + " × "), line.name]),
            notes ? h("span", { class: "line-notes" }, notes) : null,
            out ? h("span", { class: "badge" }, L.soldOut) : null,
            h("span", { class: "line-price" }, K.display(line.quantity * line.priceCents + surcharge)),
          ]),
          h("button", { type: "button", class: "step", "aria-label": L.remove + " 1 " + line.name, onclick: () => changeQuantity(line, -1) }, "−"),
          h("button", { type: "button", class: "step", "aria-label": "+1 " + line.name, onclick: () => changeQuantity(line, 1) }, "+"),
        ]);
      })
    );
    $("cart-empty").textContent = cart.lines.length ? "" : L.empty;
    const sum = totals();
    $("sum-sub").textContent = K.display(sum.sub);
    $("sum-extra").textContent = K.display(sum.extra);
    $("sum-discount").textContent = K.display(-sum.discount);
    $("sum-total").textContent = K.display(sum.total);
    const problem = cart.lines.length ? cartProblem() : "";
    $("cart-problem").hidden = !problem;
    $("cart-problem").textContent = problem;
    const payable = !cartProblem() && !state.outgoing;
    $("pay-cash").disabled = !payable;
    $("pay-card").disabled = !payable;
    document.body.dataset.cart = cart.lines.length ? "full" : "empty";
  }

  function age(order) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(order.createdAt)) / 60000));
    return minutes + "′";
  }

  function renderPending() {
    const orders = Array.from(state.pending.values()).sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id);
    $("pending-count").textContent = String(orders.length);
    if (!orders.length) {
      $("pending-list").replaceChildren(h("li", { class: "hint" }, L.pendingEmpty));
      return;
    }
    $("pending-list").replaceChildren(
      ...orders.map((order) =>
        h("li", {}, [
          h("button", { type: "button", class: "pending-order" + (state.cart.orderId === order.id ? " loaded" : ""), "data-order-id": order.id, "data-display-code": order.displayCode, onclick: () => loadPending(order) }, [
            h("strong", { class: "code" }, order.displayCode),
            h("span", {}, order.table + " · " + order.customer),
            h("span", { class: "muted" }, order.orderItems.reduce((n, item) => n + item.quantity, 0) + " · " + K.display(K.toCents(order.total)) + " · " + age(order)),
          ]),
        ])
      )
    );
  }

  function renderAll() {
    renderMenu();
    renderCart();
    renderPending();
  }

  // --- the waiters' orders -----------------------------------------------------------------

  function loadPending(order) {
    if (locked()) return;
    if (state.cart.lines.length && state.cart.orderId !== order.id) {
      K.notice(L.finishCartFirst);
      return;
    }
    state.cart = {
      lines: order.orderItems.map((item) => {
        const food = state.menu.foods.get(item.foodId);
        const price = K.toCents(item.unitPrice);
        return {
          uid: state.nextUid++,
          foodId: item.foodId,
          name: food ? food.name : L.unknownFood,
          priceCents: price,
          quantity: item.quantity,
          notes: item.notes || "",
          surcharge: K.money(K.toCents(item.total) - item.quantity * price).replace(/^0\.00$/, ""),
          mods: {},
        };
      }),
      table: order.table,
      customer: order.customer,
      discount: "",
      orderId: order.id,
      code: order.displayCode,
      dirty: false,
    };
    persist();
    K.notice(null);
    renderAll();
  }

  /* An order changed elsewhere: keep the pending list right, and let go of
     a loaded order that another till took (unless we are sending it). */
  function orderChanged(order) {
    if (order.status === "PENDING") state.pending.set(order.id, order);
    else state.pending.delete(order.id);
    if (order.status !== "PENDING" && state.cart.orderId === order.id && !state.outgoing && !state.sending) {
      state.cart = emptyCart();
      persist();
      K.notice(L.confirmedElsewhere);
      renderCart();
    }
    renderPending();
  }

  function applyEvent(type, data) {
    if (type === "food-availability-changed") {
      const food = state.menu.foods.get(data.id);
      if (food) food.available = data.available;
      renderMenu();
      renderCart();
    } else if (type === "category-availability-changed") {
      const category = state.menu.categories.find((entry) => entry.id === data.id);
      if (category) category.available = data.available;
      renderMenu();
      renderCart();
    } else if (type === "confirmed-order") {
      orderChanged({ id: data.id, status: "CONFIRMED" });
    } else {
      orderChanged(data);
    }
  }

  // --- the stream and the snapshot ----------------------------------------------------------

  const live = { source: null, held: null, retries: 0, timer: null };

  function setConnection(value) {
    document.body.dataset.connection = value;
    $("connection-status").textContent = { connecting: L.connecting, live: L.live, lost: L.lost }[value];
  }

  async function snapshot() {
    const menu = await K.loadMenu();
    if (menu.result.status === 401 || menu.result.status === 403) return window.location.reload();
    if (!menu.result.ok) throw new Error("menu " + menu.result.status);
    const pending = await K.api("GET", "/v1/orders?status=PENDING&limit=100&sortBy=createdAt");
    if (!pending.ok) throw new Error("pending " + pending.status);
    state.menu = menu;
    state.pending = new Map(pending.body.data.map((order) => [order.id, order]));
  }

  function openStream() {
    clearTimeout(live.timer);
    if (live.source) live.source.close();
    const source = new EventSource(config.eventsUrl);
    live.source = source;
    live.held = [];
    const mine = (handler) => (event) => {
      if (live.source === source) handler(event);
    };
    source.addEventListener(
      "open",
      mine(async () => {
        setConnection("live");
        live.retries = 0;
        if (live.held === null) return; // a reconnection: the server replays what we missed
        try {
          await snapshot();
        } catch (error) {
          if (live.source === source) restart();
          return;
        }
        if (live.source !== source) return;
        const held = live.held;
        live.held = null;
        for (const [type, data] of held) applyEvent(type, data);
        renderAll();
      })
    );
    for (const type of EVENT_TYPES) {
      source.addEventListener(
        type,
        mine((event) => {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch (error) {
            return;
          }
          if (live.held !== null) live.held.push([type, data]);
          else applyEvent(type, data);
        })
      );
    }
    source.addEventListener("stream-reset", mine(() => openStream()));
    source.addEventListener(
      "error",
      mine(() => {
        setConnection("lost");
        if (source.readyState === EventSource.CLOSED) restart();
      })
    );
  }

  /* A stream closed for good: a new stream and a new snapshot, later. */
  function restart() {
    if (live.source) live.source.close();
    live.source = null;
    const delay = Math.min(15000, 1000 * 2 ** live.retries);
    live.retries += 1;
    live.timer = setTimeout(openStream, delay);
  }

  // --- paying -------------------------------------------------------------------------------

  function openPay(method) {
    if (state.outgoing) return send();
    if (cartProblem()) return renderCart();
    state.payment = { method: method };
    $("pay-title").textContent = method === "CASH" ? L.cash : L.card;
    $("cash-part").hidden = method !== "CASH";
    $("tendered").value = "";
    $("pay-total").textContent = K.display(totals().total);
    renderChange();
    $("pay-panel").hidden = false;
    $("confirm").disabled = false;
    $("confirm").focus();
  }

  function closePay() {
    state.payment = null;
    $("pay-panel").hidden = true;
  }

  function renderChange() {
    const tendered = K.toCents($("tendered").value);
    const total = totals().total;
    const out = $("change");
    out.classList.remove("short");
    if (!tendered) out.textContent = "—";
    else if (tendered >= total) out.textContent = K.display(tendered - total);
    else {
      out.textContent = K.format(L.tooLittle, { amount: K.display(total - tendered) });
      out.classList.add("short");
    }
  }

  function tender(amount) {
    $("tendered").value = amount === "exact" ? K.money(totals().total) : K.money(K.toCents(amount));
    renderChange();
  }

  function money(cents) {
    // The API's decimal string.
    return K.money(cents);
  }

  /* The request the cart becomes. A loaded waiter's order is confirmed (its
     lines replaced only if the cashier changed them); a new one is created
     and confirmed in one request. */
  function outgoingFor(payment) {
    const cart = state.cart;
    const sum = totals();
    const lines = cart.lines.map((line) => {
      const item = { foodId: line.foodId, quantity: line.quantity };
      const notes = lineNotes(line);
      if (notes) item.notes = notes;
      const surcharge = lineSurcharge(line);
      if (surcharge) item.surcharge = money(surcharge);
      return item;
    });
    const confirm = { paymentMethod: payment.method, discount: money(sum.discount) };
    const register = $("register").value;
    if (register) confirm.cashRegisterId = register;
    const tendered = payment.method === "CASH" ? K.toCents($("tendered").value) || 0 : 0;
    if (cart.orderId) {
      if (cart.customer.trim()) confirm.customer = cart.customer.trim();
      if (cart.dirty) confirm.orderItems = lines;
      return { key: K.newKey(), madeAt: Date.now(), method: "POST", url: "/v1/orders/" + cart.orderId + "/confirm", body: confirm, tendered: tendered };
    }
    const body = {
      table: cart.table.trim() || L.tableDefault,
      customer: cart.customer.trim() || L.customerDefault,
      orderItems: lines,
      confirm: confirm,
    };
    return { key: K.newKey(), madeAt: Date.now(), method: "POST", url: "/v1/orders", body: body, tendered: tendered };
  }

  function confirmPayment() {
    if (state.sending) return;
    if (!state.outgoing) {
      if (!state.payment || cartProblem()) return;
      // Saved before it leaves: a reload or a lost answer sends this very request again.
      state.outgoing = outgoingFor(state.payment);
      persist();
    }
    send();
  }

  async function send() {
    if (state.sending || !state.outgoing) return;
    state.sending = true;
    document.body.dataset.sending = "true";
    $("confirm").disabled = true;
    $("confirm").dataset.label = $("confirm").dataset.label || $("confirm").textContent;
    $("confirm").textContent = L.sending;
    $("send-again").disabled = true;
    const outgoing = state.outgoing;
    const outcome = await K.sendOutgoing(outgoing, config.keyHours);
    state.sending = false;
    delete document.body.dataset.sending;
    $("confirm").disabled = false;
    $("confirm").textContent = $("confirm").dataset.label;
    $("send-again").disabled = false;
    if (outcome.kind === "done") {
      state.outgoing = null;
      state.cart = emptyCart();
      persist();
      closePay();
      K.notice(null);
      const order = outcome.result.body;
      state.pending.delete(order.id);
      renderAll();
      showDone(order, outgoing.tendered);
    } else if (outcome.kind === "refused") {
      // Refused requests write nothing: drop the key, let the cashier fix the cart.
      state.outgoing = null;
      persist();
      closePay();
      K.notice(K.format(L.refused, { message: K.problemText(outcome.result) }));
      if (outcome.result.status === 409 && state.cart.orderId) state.pending.delete(state.cart.orderId);
      renderAll();
    } else {
      closePay();
      if (outcome.kind === "expired") K.notice(K.format(L.expired, { hours: config.keyHours }));
      else K.notice(outcome.kind === "signed-out" ? L.signedOut : L.networkDown, send);
      renderCart();
    }
  }

  function showDone(order, tendered) {
    $("done-ticket").textContent = String(order.ticketNumber);
    $("done-code").textContent = order.displayCode;
    const total = K.toCents(order.total);
    $("done-total").textContent = (order.paymentMethod === "CASH" ? L.cash : L.card) + " " + K.display(total);
    $("done-change").textContent = order.paymentMethod === "CASH" && tendered >= total && tendered ? L.change + " " + K.display(tendered - total) : "";
    $("done-panel").hidden = false;
    $("done-next").focus();
  }

  function closeDone() {
    if ($("done-panel").hidden) return;
    $("done-panel").hidden = true;
    $("food-search").focus();
  }

  // --- one line's extras, notes and quantity -------------------------------------------------

  function openLine(line) {
    if (locked()) return;
    state.editing = line;
    const food = state.menu.foods.get(line.foodId);
    $("line-title").textContent = line.name;
    $("line-quantity").textContent = String(line.quantity);
    $("line-notes").value = line.notes;
    $("line-surcharge").value = line.surcharge;
    const ingredients = (food && food.ingredients) || [];
    const chips = ingredients.map((item) => {
      const mod = (line.mods || {})[item.id];
      const label = mod ? K.format(mod === "no" ? L.without : L.extra, { name: item.name }) : item.name;
      return h(
        "button",
        {
          type: "button",
          class: "chip" + (mod ? " " + mod : ""),
          "aria-pressed": String(Boolean(mod)),
          onclick: () => {
            const next = { undefined: "no", no: "extra", extra: undefined }[String((line.mods || {})[item.id])];
            line.mods = line.mods || {};
            if (next) line.mods[item.id] = next;
            else delete line.mods[item.id];
            openLine(line);
          },
        },
        label
      );
    });
    $("line-ingredients").replaceChildren(...(chips.length ? chips : [h("p", { class: "hint" }, L.noIngredients)]));
    $("line-panel").hidden = false;
  }

  function closeLine() {
    const line = state.editing;
    if (!line) return;
    line.notes = $("line-notes").value;
    line.surcharge = $("line-surcharge").value.trim();
    if (state.cart.orderId) state.cart.dirty = true;
    state.editing = null;
    $("line-panel").hidden = true;
    persist();
    renderCart();
  }

  // --- today's orders ----------------------------------------------------------------------

  let ordersQuery = 0;

  async function searchOrders() {
    const query = ++ordersQuery;
    const params = new URLSearchParams({ dateFrom: config.dayStart, limit: "50" });
    const term = $("orders-search").value.trim();
    if (term) params.set("search", term);
    let result;
    try {
      result = await K.api("GET", "/v1/orders?" + params.toString());
    } catch (error) {
      return K.notice(L.lost);
    }
    if (query !== ordersQuery) return;
    if (!result.ok) return K.notice(K.format(L.refused, { message: K.problemText(result) }));
    const orders = result.body.data;
    $("orders-list").replaceChildren(
      ...(orders.length
        ? orders.map((order) =>
            h("li", {}, [
              h("button", { type: "button", class: "order-row", "data-order-id": order.id, onclick: () => showOrder(order.id) }, [
                h("strong", { class: "code" }, order.displayCode),
                h("span", {}, order.ticketNumber ? "#" + order.ticketNumber : "—"),
                h("span", {}, order.table + " · " + order.customer),
                h("span", { class: "status status-" + order.status.toLowerCase() }, statusLabel(order.status)),
                h("span", { class: "line-price" }, K.display(K.toCents(order.total))),
              ]),
            ])
          )
        : [h("li", { class: "hint" }, L.noOrders)])
    );
  }

  function statusLabel(status) {
    return { PENDING: L.pending, CONFIRMED: L.confirmed, COMPLETED: L.completed, PICKED_UP: L.pickedUp, CANCELLED: L.cancelled }[status] || status;
  }

  async function showOrder(id) {
    let result;
    try {
      result = await K.api("GET", "/v1/orders/" + id);
    } catch (error) {
      return K.notice(L.lost);
    }
    if (!result.ok) return K.notice(K.format(L.refused, { message: K.problemText(result) }));
    const order = result.body;
    const lines = [];
    for (const group of order.categorizedItems || []) {
      for (const item of group.items) {
        lines.push(h("li", {}, [h("strong", {}, item.quantity + " × "), item.food.name, item.notes ? h("span", { class: "line-notes" }, " " + item.notes) : null, h("span", { class: "line-price" }, K.display(K.toCents(item.total)))]));
      }
    }
    const actions = [];
    if (order.status === "PENDING") actions.push(h("button", { type: "button", class: "big", onclick: () => { closeOrders(); loadPending(order); } }, L.loadIntoCart));
    if (["CONFIRMED", "COMPLETED", "PICKED_UP"].includes(order.status)) actions.push(h("button", { type: "button", id: "reprint", onclick: (event) => reprint(order, event.currentTarget) }, L.reprint));
    if (["PENDING", "CONFIRMED", "COMPLETED"].includes(order.status)) actions.push(h("button", { type: "button", id: "cancel-order", class: "danger", onclick: (event) => cancelOrder(order, event.currentTarget) }, L.cancelOrder));
    $("order-detail").replaceChildren(
      h("h3", {}, [order.displayCode, order.ticketNumber ? " · #" + order.ticketNumber : "", " · ", statusLabel(order.status)]),
      h("p", {}, order.table + " · " + order.customer + (order.paymentMethod ? " · " + (order.paymentMethod === "CASH" ? L.cash : L.card) : "")),
      h("ul", { class: "detail-lines" }, lines),
      h("p", { class: "detail-total" }, [L.discount + " " + K.display(K.toCents(order.discount)) + " · ", h("strong", {}, K.display(K.toCents(order.total)))]),
      h("div", { class: "panel-actions" }, actions)
    );
  }

  async function reprint(order, button) {
    button.disabled = true;
    try {
      const ids = (order.orderItems || []).map((item) => item.id);
      const result = await K.api("POST", "/v1/orders/" + order.id + "/reprint", { orderItems: ids, reprintReceipt: true }, K.newKey());
      K.notice(result.ok ? L.reprinted : K.format(L.refused, { message: K.problemText(result) }));
    } catch (error) {
      K.notice(L.lost);
    } finally {
      button.disabled = false;
    }
  }

  async function cancelOrder(order, button) {
    // Two taps: the first arms the button.
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = K.format(L.reallyCancel, { code: order.displayCode });
      return;
    }
    button.disabled = true;
    try {
      const result = await K.api("DELETE", "/v1/orders/" + order.id);
      K.notice(result.ok ? K.format(L.cancelledOrder, { code: order.displayCode }) : K.format(L.refused, { message: K.problemText(result) }));
      if (result.ok) orderChanged(result.body);
    } catch (error) {
      K.notice(L.lost);
    }
    await showOrder(order.id);
    searchOrders();
  }

  function openOrders() {
    $("orders-panel").hidden = false;
    $("order-detail").replaceChildren();
    $("orders-search").focus();
    searchOrders();
  }

  function closeOrders() {
    $("orders-panel").hidden = true;
  }

  // --- the drawer and the day's closure -----------------------------------------------------

  async function loadRegisters() {
    let result;
    try {
      result = await K.api("GET", "/v1/cash-registers?enabled=true");
    } catch (error) {
      return;
    }
    if (!result.ok) return;
    const select = $("register");
    const chosen = window.localStorage.getItem(REGISTER_KEY) || (result.body.length === 1 ? result.body[0].id : "");
    select.replaceChildren(select.options[0], ...result.body.map((register) => h("option", { value: register.id }, register.name)));
    if (result.body.some((register) => register.id === chosen)) select.value = chosen;
  }

  async function openDrawer() {
    const register = $("register").value;
    if (!register) return K.notice(L.chooseRegister);
    try {
      const result = await K.api("POST", "/v1/cash-registers/" + encodeURIComponent(register) + "/open-drawer", {});
      K.notice(result.ok ? L.drawerOpened : K.format(L.refused, { message: K.problemText(result) }));
    } catch (error) {
      K.notice(L.lost);
    }
  }

  async function closeDay(button) {
    const register = $("register").value;
    if (!register) return K.notice(L.chooseRegister);
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      K.notice(L.reallyClose);
      return;
    }
    button.dataset.armed = "false";
    try {
      const result = await K.api("POST", "/v1/reports/general-closure", { cashRegister: register });
      if (!result.ok) return K.notice(K.format(L.refused, { message: K.problemText(result) }));
      const report = Array.isArray(result.body) ? result.body[0] : result.body;
      const figures = report || { totalOrders: 0, totalRevenue: "0", totalCashRevenue: "0", totalCardRevenue: "0" };
      K.notice(
        K.format(L.closed, {
          orders: figures.totalOrders,
          total: K.display(K.toCents(figures.totalRevenue)),
          cash: K.display(K.toCents(figures.totalCashRevenue)),
          card: K.display(K.toCents(figures.totalCardRevenue)),
        })
      );
    } catch (error) {
      K.notice(L.lost);
    }
  }

  // --- keys ----------------------------------------------------------------------------------

  function overlay() {
    for (const id of ["done-panel", "pay-panel", "line-panel", "orders-panel"]) if (!$(id).hidden) return id;
    return null;
  }

  function topMatch() {
    const first = $("foods").querySelector(".food:not(.sold-out)");
    return first ? state.menu.foods.get(first.dataset.foodId) : null;
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const open = overlay();
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
    if (event.key === "Escape") {
      event.preventDefault();
      if (open === "done-panel") closeDone();
      else if (open === "pay-panel") closePay();
      else if (open === "line-panel") closeLine();
      else if (open === "orders-panel") closeOrders();
      else if ($("food-search").value) {
        $("food-search").value = "";
        renderMenu();
      } else clearCart();
      return;
    }
    if (event.key === "Enter") {
      if (open === "orders-panel") return;
      // A button reached with Tab keeps its own Enter, except a food button
      // just tapped (Enter then pays, as on a desk till) and inside the
      // payment and confirmation panels (Enter confirms, Enter goes on).
      const button = target instanceof HTMLButtonElement;
      if (button && (open === "line-panel" || (!open && !target.classList.contains("food")))) return;
      event.preventDefault();
      if (open === "done-panel") closeDone();
      else if (open === "pay-panel") confirmPayment();
      else if (open === "line-panel") closeLine();
      else if (target.id === "food-search" && target.value.trim()) {
        const food = topMatch();
        if (food) addFood(food);
        target.value = "";
        renderMenu();
      } else if (state.outgoing) send();
      else if (state.cart.lines.length) openPay("CASH");
      return;
    }
    // A printable key outside a field starts a food search.
    if (!open && !typing && event.key.length === 1 && event.key !== " ") {
      closeDone();
      $("food-search").focus();
    } else if (open === "done-panel" && event.key.length === 1 && event.key !== " ") {
      closeDone();
    }
  }

  // --- wiring -------------------------------------------------------------------------------

  function bind() {
    $("food-search").addEventListener("input", renderMenu);
    for (const id of ["table", "customer"]) {
      $(id).addEventListener("input", (event) => {
        if (state.outgoing) {
          event.target.value = state.cart[id];
          return locked();
        }
        state.cart[id] = event.target.value;
        persist();
      });
    }
    $("discount").addEventListener("input", (event) => {
      if (state.outgoing) {
        event.target.value = state.cart.discount;
        return locked();
      }
      state.cart.discount = event.target.value;
      persist();
      renderCart();
    });
    $("pay-cash").addEventListener("click", () => openPay("CASH"));
    $("pay-card").addEventListener("click", () => openPay("CARD"));
    $("clear-cart").addEventListener("click", clearCart);
    $("pay-back").addEventListener("click", closePay);
    $("confirm").addEventListener("click", confirmPayment);
    $("tendered").addEventListener("input", renderChange);
    for (const button of document.querySelectorAll(".tender")) button.addEventListener("click", () => tender(button.dataset.amount));
    $("done-next").addEventListener("click", closeDone);
    $("line-minus").addEventListener("click", () => {
      const line = state.editing;
      line.quantity = Math.max(1, line.quantity - 1);
      $("line-quantity").textContent = String(line.quantity);
    });
    $("line-plus").addEventListener("click", () => {
      const line = state.editing;
      line.quantity = Math.min(999, line.quantity + 1);
      $("line-quantity").textContent = String(line.quantity);
    });
    $("line-done").addEventListener("click", closeLine);
    $("line-remove").addEventListener("click", () => {
      state.cart.lines = state.cart.lines.filter((line) => line !== state.editing);
      if (state.cart.orderId) state.cart.dirty = true;
      state.editing = null;
      $("line-panel").hidden = true;
      persist();
      renderCart();
    });
    $("orders-button").addEventListener("click", openOrders);
    $("orders-close").addEventListener("click", closeOrders);
    $("orders-search").addEventListener("input", searchOrders);
    $("drawer-button").addEventListener("click", openDrawer);
    if ($("closure-button")) $("closure-button").addEventListener("click", (event) => closeDay(event.currentTarget));
    $("register").addEventListener("change", (event) => window.localStorage.setItem(REGISTER_KEY, event.target.value));
    $("notice-close").addEventListener("click", () => K.notice(null));
    document.addEventListener("keydown", onKey);
    window.addEventListener("online", () => {
      if (!live.source) openStream();
    });
  }

  bind();
  setConnection("connecting");
  renderAll();
  if (state.outgoing) {
    if (K.tooOld(state.outgoing, config.keyHours)) K.notice(K.format(L.expired, { hours: config.keyHours }));
    else K.notice(L.inDoubt, send);
  }
  loadRegisters();
  openStream();
  $("food-search").focus();
  // Ages in the pending list.
  setInterval(renderPending, 30000);
})();
