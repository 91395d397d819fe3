// DOM helpers that only ever create text nodes: every string a panel shows (stage names, SQL, plan
// strings, config values) comes from an event log and is untrusted, so nothing here parses HTML.

export const SVG_NS = "http://www.w3.org/2000/svg";

const SAFE_URL = /^https?:\/\//i;

/** A URL safe to put in an href: http(s) only, so a log cannot smuggle in `javascript:`. */
export function safeUrl(url) {
  return typeof url === "string" && SAFE_URL.test(url.trim()) ? url.trim() : null;
}

function applyAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on/i.test(key)) throw new Error(`event handler attributes are not allowed: ${key}`);
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.setAttribute("class", String(value));
    else if (key === "dataset") for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (key === "href") {
      const url = safeUrl(value);
      if (url) node.setAttribute("href", url);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendChildren(node, children) {
  for (const child of [].concat(children ?? [])) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element; string children become text nodes. */
export function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  applyAttrs(node, attrs);
  appendChildren(node, children);
  return node;
}

/** An SVG element; string children become text nodes. */
export function s(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  applyAttrs(node, attrs);
  appendChildren(node, children);
  return node;
}

/** Remove every child of a node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Cut text to `max` characters with an ellipsis (labels on fixed-size nodes). */
export function truncate(text, max) {
  const str = String(text ?? "");
  return str.length <= max ? str : str.slice(0, Math.max(0, max - 1)) + "\u2026";
}
