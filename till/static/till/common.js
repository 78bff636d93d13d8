/* What the till (till.js) and the waiter pad (waiter.js) share: the REST
   client on the session, money in integer cents, the saved cart, the sender
   that never makes an order twice, and the menu buttons. Plain JavaScript,
   served as is: no library, no build step.

   Never twice, never lost. A cart is sent as one "outgoing" request
   {key, method, url, body}, written to localStorage *before* the request
   leaves, with an Idempotency-Key made at that moment. Until the server
   answers, the cart is locked and the outgoing request is kept:
   - the answer is lost (network error, a 5xx from a proxy, the page closed):
     the page says so and offers "Send again", which sends the very same
     request with the very same key. The server runs it at most once; a
     repeat gets the first answer back (Idempotent-Replayed) and makes no
     second order and no second ticket;
   - the server refused it (4xx): it wrote nothing, so the outgoing request
     is dropped and the cart unlocked for a fix;
   - the server took it (2xx): the cart is cleared.
   A reload finds the cart and any outgoing request in localStorage. One
   older than the server keeps keys (IDEMPOTENCY_KEY_HOURS) is never sent
   again: the same key could then make a second order. */
(function () {
  "use strict";

  function readConfig() {
    return JSON.parse(document.getElementById("page-config").textContent);
  }

  /* "Ticket {number}" with {number: 3} → "Ticket 3". */
  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (whole, name) => (name in (values || {}) ? String(values[name]) : whole));
  }

  function cookie(name) {
    for (const part of document.cookie.split(";")) {
      const [key, ...rest] = part.trim().split("=");
      if (key === name) return decodeURIComponent(rest.join("="));
    }
    return "";
  }

  /* DRF's SessionAuthentication wants the CSRF token on unsafe methods. */
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return cookie("csrftoken") || (meta ? meta.content : "");
  }

  /* A random key from crypto.getRandomValues, which (unlike randomUUID)
     works on a plain-http festival LAN too. */
  function newKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "till-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  class NetworkError extends Error {}

  /* fetch() on the session; resolves to {status, ok, body, replayed};
     rejects with NetworkError when no answer came back. */
  async function api(method, url, body, key) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    let response;
    try {
      response = await fetch(url, {
        method: method,
        credentials: "same-origin",
        cache: "no-store",
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new NetworkError(String(error));
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      // An answer cut off mid-body is as good as no answer.
      if (response.ok) throw new NetworkError("unreadable answer");
      data = null;
    }
    return {
      status: response.status,
      ok: response.ok,
      body: data,
      replayed: response.headers.get("Idempotent-Replayed") === "true",
    };
  }

  /* The first message of a 4xx body, for the page to show. */
  function problemText(result) {
    const body = result.body || {};
    const first = Array.isArray(body.errors) && body.errors[0];
    if (first) return first.field ? first.field + ": " + first.message : first.message;
    return body.message || "HTTP " + result.status;
  }

  // --- money: integer cents, never floats --------------------------------------------

  /* "12.5", "12,50", 12 → 1250; anything else → null. */
  function toCents(value) {
    if (value === null || value === undefined) return null;
    const text = String(value).trim().replace(",", ".");
    if (text === "") return 0;
    const match = /^(\d{1,8})(?:\.(\d{0,2}))?$/.exec(text);
    if (!match) return null;
    return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  }

  /* 1250 → "12.50" (for people). */
  function money(cents) {
    const sign = cents < 0 ? "-" : "";
    const whole = Math.abs(cents);
    return sign + Math.floor(whole / 100) + "." + String(whole % 100).padStart(2, "0");
  }

  /* 1250 → "12,50 €" (it) or "€12.50" (en): for people, in the page's
     language (<html lang>), the same format as the server's display_money. */
  const moneyFormat = new Intl.NumberFormat(document.documentElement.lang || "it", { style: "currency", currency: "EUR" });
  function display(cents) {
    return moneyFormat.format(cents / 100).replace(/\u00a0/g, " ");
  }

  // --- elements -------------------------------------------------------------------------

  /* Sets text only, never HTML: names and notes come from people. */
  function h(tag, attributes, children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined || child === false) continue;
      element.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return element;
  }

  // --- the saved cart --------------------------------------------------------------------

  class Store {
    constructor(key) {
      this.key = key;
    }
    load() {
      try {
        return JSON.parse(window.localStorage.getItem(this.key) || "null");
      } catch (error) {
        return null;
      }
    }
    save(value) {
      try {
        window.localStorage.setItem(this.key, JSON.stringify(value));
      } catch (error) {
        /* private mode or full: the cart lives as long as the page */
      }
    }
  }

  // --- the menu ------------------------------------------------------------------------

  /* GET /v1/categories?include=foods → {categories, foods: Map id → food}.
     A food is for sale when it and its category are available. */
  async function loadMenu() {
    const result = await api("GET", "/v1/categories?include=foods");
    if (!result.ok) return { result: result };
    const foods = new Map();
    for (const category of result.body) {
      for (const food of category.foods || []) {
        food.categoryId = category.id;
        food.priceCents = toCents(food.price);
        foods.set(food.id, food);
      }
    }
    return { result: result, categories: result.body, foods: foods };
  }

  function forSale(menu, food) {
    const category = menu.categories.find((entry) => entry.id === food.categoryId);
    return Boolean(food.available && (!category || category.available !== false));
  }

  /* Category tabs and food buttons; `onFood(food)` on a tap. Keeps the
     chosen category in `state.category` ("" for all). */
  function renderMenu(menu, state, labels, onFood, filter) {
    const tabs = document.getElementById("categories");
    const grid = document.getElementById("foods");
    tabs.replaceChildren(
      ...[{ id: "", name: labels.all }].concat(menu.categories).map((category) =>
        h(
          "button",
          {
            type: "button",
            class: "tab",
            "aria-pressed": String(state.category === category.id),
            onclick: () => {
              state.category = category.id;
              renderMenu(menu, state, labels, onFood, filter);
            },
          },
          category.name
        )
      )
    );
    const wanted = (filter || "").trim().toLowerCase();
    const buttons = [];
    for (const category of menu.categories) {
      if (state.category && state.category !== category.id && !wanted) continue;
      for (const food of category.foods || []) {
        if (wanted && !food.name.toLowerCase().includes(wanted)) continue;
        const open = forSale(menu, food);
        buttons.push(
          h(
            "button",
            {
              type: "button",
              class: "food" + (open ? "" : " sold-out"),
              "data-food-id": food.id,
              "aria-disabled": open ? null : "true",
              "aria-label": food.name,
              onclick: () => {
                if (forSale(menu, food)) onFood(food);
              },
            },
            [h("span", { class: "food-name" }, food.name), h("span", { class: "food-price" }, open ? display(food.priceCents) : labels.soldOut)]
          )
        );
      }
    }
    grid.replaceChildren(...buttons);
    return buttons;
  }

  // --- the sender ------------------------------------------------------------------------

  /* The server keeps a key for `keyHours` (IDEMPOTENCY_KEY_HOURS); after
     that the same key would make a new order. Ten minutes' margin for clocks. */
  function tooOld(outgoing, keyHours) {
    return Boolean(outgoing.madeAt) && Date.now() - outgoing.madeAt > (keyHours * 3600 - 600) * 1000;
  }

  /* Sends the saved outgoing request; the page decides what a result means.
     Resolves to {kind: "done", result} | {kind: "refused", result} |
     {kind: "lost"} | {kind: "signed-out"} | {kind: "expired"} (too old to
     send again safely: the page asks for a look at the orders instead). */
  async function sendOutgoing(outgoing, keyHours) {
    if (tooOld(outgoing, keyHours)) return { kind: "expired" };
    let result;
    try {
      result = await api(outgoing.method, outgoing.url, outgoing.body, outgoing.key);
    } catch (error) {
      return { kind: "lost" };
    }
    if (result.status === 401 || result.status === 403) return { kind: "signed-out", result: result };
    if (result.status >= 500) return { kind: "lost", result: result };
    if (!result.ok) return { kind: "refused", result: result };
    return { kind: "done", result: result };
  }

  /* The page's notice bar: a message, and "Send again" when `retry` is given. */
  function notice(text, retry) {
    const bar = document.getElementById("notice");
    const again = document.getElementById("send-again");
    if (!text) {
      bar.hidden = true;
      return;
    }
    document.getElementById("notice-text").textContent = text;
    again.hidden = !retry;
    again.onclick = retry || null;
    bar.hidden = false;
  }

  window.TillKit = {
    readConfig: readConfig,
    format: format,
    api: api,
    NetworkError: NetworkError,
    problemText: problemText,
    newKey: newKey,
    toCents: toCents,
    money: money,
    display: display,
    h: h,
    Store: Store,
    loadMenu: loadMenu,
    forSale: forSale,
    renderMenu: renderMenu,
    sendOutgoing: sendOutgoing,
    tooOld: tooOld,
    notice: notice,
  };
})();
