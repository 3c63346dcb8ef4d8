import { SignedOut } from "./api.js";
import { adoptToken, forget, signInWith } from "./auth.js";
import { h } from "./dom.js";
import { runView } from "./run-view.js";
import { runsView } from "./runs-view.js";

/** The dashboard's pages by address: `#/runs?app=&status=` and `#/runs/<id>`. */
const main = document.querySelector("main");
let leave = () => {};

async function signInSettings() {
  const res = await fetch("/ui/config.json");
  return res.ok ? (await res.json()).signIn : null;
}

function signInPage(signIn) {
  main.replaceChildren(
    h("h1", {}, "Sign in"),
    signIn
      ? h(
          "p",
          {},
          h("button", { onclick: () => signInWith(signIn) }, "Sign in with your team's account"),
        )
      : h(
          "p",
          {},
          "Open the dashboard with the address `npm start` printed: it carries your token.",
        ),
  );
}

async function show(signIn) {
  leave();
  leave = () => {};
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const run = /^\/runs\/([^/]+)$/.exec(path ?? "");
  try {
    if (run?.[1]) leave = runView(decodeURIComponent(run[1]), main);
    else main.replaceChildren(...(await runsView(params)));
  } catch (err) {
    if (!(err instanceof SignedOut)) throw err;
    forget();
    signInPage(signIn);
  }
}

const signIn = await signInSettings();
if (await adoptToken(signIn)) {
  window.addEventListener("hashchange", () => show(signIn));
  window.addEventListener("unhandledrejection", (event) => {
    if (!(event.reason instanceof SignedOut)) return;
    event.preventDefault();
    leave();
    forget();
    signInPage(signIn);
  });
  show(signIn);
} else {
  signInPage(signIn);
}
