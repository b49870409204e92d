// Server-sent events from /api/events: `runs`, `scalars`, `output`, `status`.
//
// The browser's own EventSource reconnection would repeat the first URL, and with it the
// `scalars_from` / `output_from` positions it started at, so points would arrive twice.
// Instead every error closes the stream and a new one is opened after a pause, with the
// parameters the caller gives at that moment.

import { apiUrl } from './api.js';

const EVENT_TYPES = ['runs', 'scalars', 'output', 'status'];
const MAX_RETRY_MS = 15000;

/**
 * Follows /api/events. getParams() returns the query parameters for each (re)connection;
 * handlers maps an event type to a function of its parsed data, and may have
 * `reconnected()`, called when a stream opens again after a failure (events may have been
 * missed in between).
 * Returns {close()}.
 */
export function follow(getParams, handlers) {
  let source = null;
  let closed = false;
  let retryMs = 1000;
  let timer = null;
  let failed = false;

  const dispatch = (type, raw) => {
    let data;
    try { data = typeof raw === 'string' ? JSON.parse(raw) : raw; } catch { return; }
    const handler = handlers[type];
    if (handler) handler(data);
  };

  const connect = () => {
    if (closed) return;
    source = new EventSource(apiUrl('/api/events', getParams()));
    for (const type of EVENT_TYPES) source.addEventListener(type, (event) => dispatch(type, event.data));
    // A server that sends unnamed events with a "type" (or "event") field is understood too.
    source.onmessage = (event) => {
      try {
        const data = JSON.parse(event.data);
        const type = data.type || data.event;
        if (EVENT_TYPES.includes(type)) dispatch(type, data);
      } catch { /* not JSON: ignore */ }
    };
    source.onopen = () => {
      retryMs = 1000;
      if (failed && handlers.reconnected) handlers.reconnected();
      failed = false;
    };
    source.onerror = () => {
      source.close();
      failed = true;
      if (closed) return;
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (source) source.close();
    },
  };
}
