/* The live half of the kitchen display and the board (screens/views.py is the
   server half). Plain JavaScript, served as is: no library, no build step.

   A page's state comes from the server. load() fetches a snapshot together
   with the event-log position it was read at, then opens the EventSource at
   that position (?lastEventId=). From there:
   - the connection drops: the browser reconnects by itself with the
     Last-Event-ID header, and the server replays what the page missed;
   - the server refuses or the browser gives up (readyState CLOSED): we check
     that the session is still good, then open a new EventSource at the last
     id we saw (?lastEventId=);
   - stream-reset (the log no longer reaches back to our id): load() again.
   The pages key everything by order id and apply absolute statuses, so an
   event that arrives twice changes nothing. The page is "live" from the
   stream's `open` event, not from any message of the server's: the stream
   opens with an id-only message, which EventSource keeps to itself. */
(function () {
  "use strict";

  const RETRY_FIRST_MS = 1000;
  const RETRY_MAX_MS = 15000;

  let configCache = null;
  function readConfig() {
    if (!configCache) configCache = JSON.parse(document.getElementById("page-config").textContent);
    return configCache;
  }

  /* A string of the page's catalogue (config.labels, translated by the
     server), with {name} placeholders filled from `values`. Every word the
     scripts show comes from here. */
  function t(key, values) {
    const text = (readConfig().labels || {})[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /* The session ended or lost its role: the server-rendered page sends the
     browser to the login page, or says why not. */
  function sessionGone() {
    window.location.reload();
  }

  /* fetch() with the session and the CSRF token; resolves to {status, ok, body}.
     Throws on a network error. */
  async function request(method, url) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null; // HEAD, or not JSON
    }
    return { status: response.status, ok: response.ok, body: body };
  }

  function refused(result) {
    return result.status === 401 || result.status === 403;
  }

  /* Screen readers hear each line added here (the region is aria-live). */
  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    const line = document.createElement("p");
    line.textContent = text;
    region.appendChild(line);
    while (region.children.length > 5) region.removeChild(region.firstChild);
  }

  /* A small element builder that only ever sets text, never HTML: customer
     names and notes come from the till. */
  function h(tag, attributes, children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined || child === false) continue;
      element.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return element;
  }

  /* Optional chime, off until someone turns it on (the choice is kept per
     browser). A generated tone: no sound file to serve. */
  const Sound = {
    storageKey: "pages.sound",
    enabled: false,
    context: null,
    button: null,

    setup(button) {
      this.button = button;
      try {
        this.enabled = window.localStorage.getItem(this.storageKey) === "on";
      } catch (error) {
        this.enabled = false;
      }
      this.render();
      button.addEventListener("click", () => {
        this.enabled = !this.enabled;
        try {
          window.localStorage.setItem(this.storageKey, this.enabled ? "on" : "off");
        } catch (error) {
          /* private mode: the choice lasts for this page only */
        }
        this.render();
        this.chime();
      });
      // Browsers start audio only after a user gesture on the page.
      const unlock = () => this.unlock();
      document.addEventListener("pointerdown", unlock, { once: true });
      document.addEventListener("keydown", unlock, { once: true });
    },

    render() {
      if (!this.button) return;
      this.button.setAttribute("aria-pressed", String(this.enabled));
      this.button.textContent = "";
      this.button.append(t("sound") + " ", h("span", { class: "toggle-state", "aria-hidden": "true" }, this.enabled ? t("soundOn") : t("soundOff")));
    },

    unlock() {
      if (!this.enabled) return null;
      const AudioContextClass = window.AudioContext || window.webkitAudioContext;
      if (!AudioContextClass) return null;
      if (!this.context) this.context = new AudioContextClass();
      if (this.context.state === "suspended") this.context.resume();
      return this.context;
    },

    chime() {
      const context = this.unlock();
      if (!context) return;
      const start = context.currentTime;
      [880, 1175].forEach((frequency, index) => {
        const at = start + index * 0.18;
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(at);
        oscillator.stop(at + 0.18);
      });
    },
  };

  /* One page's link to the server: snapshot, stream, reconnection. */
  class Connection {
    constructor(options) {
      this.eventsUrl = options.eventsUrl;
      this.eventTypes = options.eventTypes;
      this.stateUrl = options.stateUrl;
      this.onState = options.onState;
      this.onEvent = options.onEvent;
      this.source = null;
      this.lastEventId = null;
      this.retries = 0;
      this.timer = null;
      this.generation = 0;
      this.state = "connecting";
    }

    start() {
      window.addEventListener("online", () => {
        if (!this.source) this.retryNow();
      });
      this.load();
    }

    /* "connecting" (first load), "live", or "lost" (shows the banner). */
    setState(state) {
      const previous = this.state;
      this.state = state;
      document.body.dataset.connection = state;
      const banner = document.getElementById("connection-banner");
      if (banner) {
        if (state === "lost" && banner.hidden) {
          banner.textContent = t("connectionLost");
          banner.hidden = false;
        } else if (state !== "lost" && !banner.hidden) {
          banner.hidden = true;
          banner.textContent = "";
        }
      }
      const status = document.getElementById("connection-status");
      if (status) status.textContent = { connecting: t("connecting"), live: t("live"), lost: t("reconnecting") }[state];
      if (previous === "lost" && state === "live") announce(t("connectionRestored"));
      document.dispatchEvent(new CustomEvent("live:state", { detail: state }));
    }

    closeSource() {
      if (this.source) this.source.close();
      this.source = null;
    }

    retryLater(step) {
      clearTimeout(this.timer);
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retries);
      this.retries += 1;
      this.pending = step;
      this.timer = setTimeout(step, delay * (0.75 + Math.random() * 0.5));
    }

    retryNow() {
      if (!this.pending) return;
      clearTimeout(this.timer);
      const step = this.pending;
      this.pending = null;
      step();
    }

    /* Snapshot first, then the stream from the snapshot's position. */
    async load() {
      this.closeSource();
      clearTimeout(this.timer);
      this.pending = null;
      const generation = ++this.generation;
      let result;
      try {
        result = await request("GET", this.stateUrl);
      } catch (error) {
        if (generation !== this.generation) return;
        this.setState("lost");
        this.retryLater(() => this.load());
        return;
      }
      if (generation !== this.generation) return;
      if (refused(result)) return sessionGone();
      if (!result.ok) {
        this.setState("lost");
        this.retryLater(() => this.load());
        return;
      }
      this.lastEventId = result.body.lastEventId;
      this.onState(result.body);
      this.open();
    }

    /* The stream was closed for good: check the session, then continue from
       the last id seen. */
    async reopen() {
      this.pending = null;
      const generation = this.generation;
      let result;
      try {
        result = await request("HEAD", this.stateUrl);
      } catch (error) {
        if (generation === this.generation) this.retryLater(() => this.reopen());
        return;
      }
      if (generation !== this.generation) return;
      if (refused(result)) return sessionGone();
      if (!result.ok) {
        this.retryLater(() => this.reopen());
        return;
      }
      this.open();
    }

    open() {
      const source = new EventSource(this.eventsUrl + "?lastEventId=" + encodeURIComponent(this.lastEventId));
      this.source = source;
      // Ignore anything still queued for a stream we have since replaced.
      const current = (handler) => (event) => {
        if (this.source === source) handler(event);
      };
      // The response started: the stream is live. (Its first message is an
      // id-only one, which EventSource records for its own reconnections
      // without telling the page; the page keeps its position itself: the
      // snapshot's, then each event's id.)
      source.addEventListener(
        "open",
        current(() => {
          this.retries = 0;
          this.setState("live");
        })
      );
      source.addEventListener(
        "stream-reset",
        current(() => this.load())
      );
      for (const type of this.eventTypes) {
        source.addEventListener(
          type,
          current((event) => {
            this.lastEventId = event.lastEventId;
            let data;
            try {
              data = JSON.parse(event.data);
            } catch (error) {
              console.error("unreadable event", type, event.data);
              return;
            }
            try {
              this.onEvent(type, data);
            } catch (error) {
              console.error("could not apply event", type, data, error);
            }
          })
        );
      }
      source.addEventListener(
        "error",
        current(() => {
          this.setState("lost");
          if (source.readyState === EventSource.CLOSED) {
            // A refusal (401/403), an error page from a proxy, or a browser
            // that gave up: the browser will not retry this one.
            this.closeSource();
            this.retryLater(() => this.reopen());
          }
          // Otherwise CONNECTING: the browser retries, sending Last-Event-ID.
        })
      );
    }
  }

  /* Put `entries` into `container` in order, reusing elements (so a focused
     button keeps its focus) and moving only what is out of place. */
  function reconcile(container, entries, elements, build) {
    const wanted = new Set(entries.map((entry) => entry.id));
    for (const [id, element] of elements) {
      if (!wanted.has(id)) {
        element.remove();
        elements.delete(id);
      }
    }
    entries.forEach((entry, index) => {
      let element = elements.get(entry.id);
      if (!element) {
        element = build(entry);
        elements.set(entry.id, element);
      }
      if (container.children[index] !== element) container.insertBefore(element, container.children[index] || null);
    });
  }

  window.Live = {
    reconcile: reconcile,
    readConfig: readConfig,
    t: t,
    request: request,
    refused: refused,
    sessionGone: sessionGone,
    announce: announce,
    h: h,
    Sound: Sound,
    Connection: Connection,
  };
})();
