/**
 * Building the page from data: every value goes in as text (textContent), never as markup, so
 * nothing a run or a commit message holds can run on the page.
 */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A status as a coloured badge; its colour comes from the stylesheet by `data-status`. */
export function badge(status) {
  return h("span", { class: "badge", "data-status": status ?? "PENDING" }, status ?? "PENDING");
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function took(from, to) {
  if (!from) return "";
  const ms = (to ? new Date(to) : new Date()).getTime() - new Date(from).getTime();
  if (!(ms >= 0)) return "";
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

/** The revision a run deploys, as one short line. */
export function revisionText(revision) {
  if (!revision) return "";
  if (revision.version) return revision.version;
  if (revision.commit)
    return `${revision.ref ? `${revision.ref} ` : ""}${revision.commit.slice(0, 12)}`;
  return revision.key ?? revision.type ?? "";
}

export function section(title, ...children) {
  return h("section", { "data-section": title.toLowerCase() }, h("h2", {}, title), ...children);
}
