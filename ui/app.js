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

function show() {
  leave();
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const run = /^\/runs\/([^/]+)$/.exec(path ?? "");
  leave = run?.[1] ? runView(decodeURIComponent(run[1]), main) : runsView(params, main);
}

const signIn = await signInSettings();
if (await adoptToken(signIn)) {
  window.addEventListener("hashchange", show);
  window.addEventListener("unhandledrejection", (event) => {
    if (!(event.reason instanceof SignedOut)) return;
    event.preventDefault();
    leave();
    forget();
    signInPage(signIn);
  });
  show();
} else {
  signInPage(signIn);
}
