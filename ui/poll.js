import { SignedOut } from "./api.js";

/**
 * Draws a page now and again after the delay `draw` answers (none: the page is done), until
 * the page is left. A draw that fails (Sluice unreachable for a moment) is tried again; an
 * expired token is not, it goes on to the sign-in.
 */
export function poll(draw) {
  let timer;
  let stopped = false;
  const isStopped = () => stopped;
  const tick = async () => {
    clearTimeout(timer);
    let next;
    try {
      next = await draw(isStopped);
    } catch (err) {
      if (err instanceof SignedOut) throw err;
      console.warn("could not reach Sluice; trying again", err);
      next = 5000;
    }
    if (!stopped && next) timer = setTimeout(tick, next);
  };
  tick();
  return {
    refresh: tick,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
