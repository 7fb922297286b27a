// The clock (freeze, advance, unfreeze), fixtures, reset, and the state document (download, upload).

import { admin } from "./api.js";
import { $, badge, formData, h, notify, replace, table, when } from "./dom.js";

let context = null;

function showClock(clock) {
  replace($("#clock-now"), "Mock time: ", h("strong", {}, when(clock.now)), " ", clock.frozen ? badge("frozen") : badge("running"));
  context.refreshHeader();
}

async function clockCall(path, body, done) {
  try {
    showClock(await admin.post(path, body));
    notify(done);
  } catch (error) {
    notify(`Clock refused: ${error.message}`, "error");
  }
}

async function renderFixtures() {
  const data = await admin.get("/fixtures");
  const rows = data.fixtures.map((f) =>
    h(
      "tr",
      {},
      h("td", { class: "mono" }, f.name),
      h("td", {}, f.description || ""),
      h("td", {}, h("button", { type: "button", "aria-label": `Load fixture ${f.name}`, onclick: () => load(f.name) }, "Load")),
    ),
  );
  replace($("#fixture-list"), table("Fixtures", ["Name", "Description", ""], rows, "No fixtures ship with this server."));
}

function summary(result) {
  return `Loaded${result.fixture ? ` fixture ${result.fixture}` : ""} (seed ${result.seed}): ${result.parts.join(", ") || "seeded world"}.`;
}

async function load(name) {
  try {
    const result = await admin.post(`/fixtures/${encodeURIComponent(name)}/load`);
    replace($("#state-summary"), summary(result));
    notify(`Fixture ${name} loaded.`);
    context.changed();
  } catch (error) {
    notify(`Fixture refused: ${error.message}`, "error");
  }
  refresh();
}

async function download() {
  try {
    const doc = await admin.get("/state");
    const blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `mockserver-state-seed${doc.seed ?? ""}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    notify("State downloaded.");
  } catch (error) {
    notify(`Could not download the state: ${error.message}`, "error");
  }
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  try {
    let doc;
    try {
      doc = JSON.parse(await file.text());
    } catch {
      throw new Error(`${file.name} is not JSON.`);
    }
    const result = await admin.put("/state", doc);
    replace($("#state-summary"), summary(result));
    notify(`${file.name} loaded.`);
    context.changed();
  } catch (error) {
    replace($("#state-summary"), `Refused: ${error.message}`);
    notify(`State refused: ${error.message}`, "error");
  }
  event.target.value = "";
  refresh();
}

async function refresh() {
  try {
    showClock(await admin.get("/clock"));
    await renderFixtures();
  } catch (error) {
    notify(`Could not load the clock and fixtures: ${error.message}`, "error");
  }
}

export function init(ctx) {
  context = ctx;
  $("#freeze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const { at } = formData(event.target);
    clockCall("/clock/freeze", at ? { at } : undefined, "Clock frozen.");
  });
  $("#clock-unfreeze").addEventListener("click", () => clockCall("/clock/unfreeze", undefined, "Clock running in real time."));
  $("#advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const { duration } = formData(event.target);
    clockCall("/clock/advance", { duration }, `Clock advanced by ${duration}.`);
  });
  $("#reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const { seed } = formData(event.target);
    try {
      const result = await admin.post("/reset", seed ? { seed: Number(seed) } : undefined);
      replace($("#state-summary"), `Reset to the start (seed ${result.seed}).`);
      notify("Everything reset.");
      context.changed();
    } catch (error) {
      notify(`Reset refused: ${error.message}`, "error");
    }
    refresh();
  });
  $("#state-download").addEventListener("click", download);
  $("#state-upload").addEventListener("change", upload);
}

export function show() {
  refresh();
}
