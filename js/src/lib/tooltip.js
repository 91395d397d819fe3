// A hover card of label/value rows, filled with text nodes only.

import { h, clear } from "./dom.js";

/** A tooltip living in `container` (which must be position: relative). */
export function createTooltip(container) {
  const tip = h("div", { class: "sw-tooltip", role: "tooltip" });
  tip.style.display = "none";
  container.appendChild(tip);
  return {
    element: tip,
    /** Show `title` and rows of [label, value] near (x, y) in the container's coordinates. */
    show(title, rows, x, y) {
      clear(tip);
      if (title) tip.appendChild(h("div", { class: "sw-tooltip-title" }, [title]));
      const table = h("table");
      for (const [label, value] of rows) {
        if (value === null || value === undefined || value === "") continue;
        table.appendChild(h("tr", {}, [h("th", {}, [label]), h("td", {}, [String(value)])]));
      }
      tip.appendChild(table);
      tip.style.display = "block";
      const maxX = Math.max(0, container.clientWidth - tip.offsetWidth - 4);
      tip.style.left = `${Math.min(maxX, Math.max(0, x + 12))}px`;
      // below the pointer when it fits, else above it, never outside the container's top
      const below = y + 12;
      const fits = below + tip.offsetHeight <= container.clientHeight;
      tip.style.top = `${Math.max(0, fits ? below : y - 12 - tip.offsetHeight)}px`;
    },
    hide() {
      tip.style.display = "none";
    },
  };
}
