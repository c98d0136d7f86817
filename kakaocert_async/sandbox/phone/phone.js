// The virtual phone: lists the sandbox's receipts and plays their receiver, through the
// JSON control routes under /_sandbox. Values are shown as text (textContent), never as
// HTML, and never written to the console: they hold the receiver's personal data.
"use strict";

(() => {
  const POLL_MS = 1000;
  const GENERATIONS = {
    kakaocert: {
      list: "/_sandbox/receipts",
      one: "/_sandbox/receipts/",
      actions: ["sign", "expire"],
      states: ["Pending · 대기", "Signed · 서명완료", "Expired · 만료"],
    },
    barocert: {
      list: "/_sandbox/barocert/receipts",
      one: "/_sandbox/barocert/receipts/",
      actions: ["sign", "refuse", "expire"],
      states: ["Waiting · 대기", "Completed · 완료", "Expired · 만료", "Refused · 거절", "Failed · 실패"],
    },
  };
  const KINDS = {
    esign: "전자서명 e-signature",
    identity: "본인인증 identity",
    cms: "출금동의 CMS",
    Identity: "Barocert 본인인증",
    Sign: "Barocert 전자서명",
    MultiSign: "Barocert 복수서명",
    CMS: "Barocert 출금동의",
  };

  const $ = (id) => document.getElementById(id);
  const list = $("receipts");
  const rows = new Map(); // key -> <li>
  let serverOffset = 0; // the sandbox clock minus this browser's, in ms
  let opened = null; // {generation, id, request, signature}
  let noticeTimer = null;

  async function call(method, path) {
    const response = await fetch(path, {
      method,
      headers: { accept: "application/json" },
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(body.message || `${method} ${path}: HTTP ${response.status}`);
    }
    return body;
  }

  function notice(text) {
    const box = $("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Korea time "yyyyMMddHHmmss" -> epoch ms.
  function kst(text) {
    if (!text) return null;
    const n = (from, to) => Number(text.slice(from, to));
    return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10) - 9, n(10, 12), n(12, 14));
  }

  // The service's times are Korea time, whatever the zone of the machine showing them.
  function clock(text) {
    return text ? `${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)} KST` : "";
  }

  // When a final state came: expired at its expiry; signed, refused or failed when the
  // service says it was completed (a refusal may have no such time: then none is shown).
  function ended(status) {
    if (status.state === 2) return status.expireDT ? `at ${clock(status.expireDT)}` : "";
    return status.completeDT ? `at ${clock(status.completeDT)}` : "";
  }

  function timeLeft(expireDT) {
    const end = kst(expireDT);
    if (end === null) return "";
    const seconds = Math.max(0, Math.round((end - (Date.now() + serverOffset)) / 1000));
    const minutes = Math.floor(seconds / 60);
    return `expires in ${minutes}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function stateName(generation, state) {
    return GENERATIONS[generation].states[state] || `state ${state}`;
  }

  // The list ------------------------------------------------------------------

  function item(generation, status) {
    return {
      generation,
      id: status.receiptID,
      kind: generation === "kakaocert" ? status.family : status.kind,
      title: generation === "kakaocert" ? status.tmstitle : status.reqTitle,
      status,
    };
  }

  async function refresh() {
    const [kakaocert, barocert] = await Promise.all(
      Object.values(GENERATIONS).map((g) => call("GET", g.list)),
    );
    serverOffset = Date.parse(kakaocert.time) - Date.now();
    const items = [
      ...kakaocert.receipts.map((s) => item("kakaocert", s)),
      ...barocert.receipts.map((s) => item("barocert", s)),
    ].sort((a, b) => (b.status.requestDT || "").localeCompare(a.status.requestDT || ""));
    render(items);
    if (opened) await refreshOpened();
  }

  function render(items) {
    $("empty").hidden = items.length > 0;
    const keep = new Set();
    items.forEach((entry, index) => {
      const key = `${entry.generation}:${entry.id}`;
      keep.add(key);
      let row = rows.get(key);
      if (!row) {
        row = newRow(entry);
        rows.set(key, row);
      }
      updateRow(row, entry);
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
    });
    for (const [key, row] of rows) {
      if (!keep.has(key)) {
        row.remove();
        rows.delete(key);
      }
    }
  }

  function newRow(entry) {
    const row = el("li", "receipt");
    row.dataset.receiptId = entry.id;
    row.dataset.generation = entry.generation;
    const button = el("button");
    button.type = "button";
    const top = el("span", "row");
    top.append(el("span", "title"), el("span", "kind", KINDS[entry.kind] || entry.kind));
    const bottom = el("span", "row");
    bottom.append(el("span", "chip"), el("span", "meta"));
    button.append(top, bottom);
    button.addEventListener("click", () => open(entry.generation, entry.id));
    row.append(button);
    return row;
  }

  function updateRow(row, entry) {
    const status = entry.status;
    row.dataset.state = String(status.state);
    row.querySelector(".title").textContent = entry.title || "(no title)";
    const chip = row.querySelector(".chip");
    chip.className = `chip chip-${status.state}`;
    chip.textContent = stateName(entry.generation, status.state);
    const meta = [status.appUseYN ? "App to App" : "KakaoTalk message"];
    meta.push(status.state === 0 ? timeLeft(status.expireDT) : ended(status));
    row.querySelector(".meta").textContent = meta.filter(Boolean).join(" · ");
  }

  // One receipt, as the receiver sees it ---------------------------------------

  async function open(generation, id) {
    const g = GENERATIONS[generation];
    try {
      const status = await call("GET", g.one + encodeURIComponent(id));
      if (status.state === 0) {
        await call("POST", `${g.one}${encodeURIComponent(id)}/open`).catch(() => {});
      }
      const answer = await call("GET", `${g.one}${encodeURIComponent(id)}/request`);
      opened = { generation, id, signature: null };
      showRequest(generation, answer.family || answer.kind, answer.request, status);
      $("inbox").hidden = true;
      $("detail").hidden = false;
      await refreshOpened();
    } catch (error) {
      notice(error.message);
    }
  }

  function close() {
    opened = null;
    $("detail").hidden = true;
    $("inbox").hidden = false;
  }

  function signText(kind, request) {
    // [label, [[title, text, isHash]...]]
    const hash = request.tokenType === "HASH";
    switch (kind) {
      case "kakaocert:identity":
      case "barocert:Identity":
        return ["One-time token to sign · 본인인증", [[null, request.Token ?? request.token, false]]];
      case "kakaocert:cms":
        return ["Withdrawal consent to sign · 출금동의", [
          [null, request.Token, false],
          ["Account", `${request.BankCode} ${request.BankAccountNum} (${request.BankAccountName})`, false],
          ["Payer number", request.ClientUserID, false],
        ].filter((part) => part[1])];
      case "barocert:CMS":
        return ["Withdrawal consent to sign · 출금동의", [
          ["Requested by", request.requestCorp, false],
          ["Account", `${request.bankName} ${request.bankAccountNum} (${request.bankAccountName})`, false],
          ["Service", request.bankServiceType, false],
        ]];
      case "barocert:MultiSign":
        return [hash ? "Hashes of the documents to sign" : "Documents to sign",
          (request.tokens || []).map((doc) => [doc.signTitle || doc.reqTitle, doc.token, hash])];
      case "barocert:Sign":
        return [hash ? "Hash of the document to sign" : "Text to sign", [[null, request.token, hash]]];
      default:
        return ["Text to sign · 전자서명", [[null, request.Token, false]]];
    }
  }

  function showRequest(generation, kind, request, status) {
    const barocert = generation === "barocert";
    const detail = $("detail");
    detail.dataset.receiptId = opened.id;
    detail.dataset.generation = generation;
    detail.dataset.kind = kind;
    const from = barocert
      ? [status.callCenterName, status.callCenterNum]
      : [status.clientName, status.subClientName, request.CallCenterName, request.CallCenterNum];
    $("detail-from").textContent = from.filter(Boolean).join(" · ");
    $("detail-title").textContent = (barocert
      ? request.signTitle || request.reqTitle
      : request.TMSTitle) || "(no title)";
    const message = barocert ? request.extraMessage : request.TMSMessage;
    $("detail-message").textContent = message || "";
    $("detail-message").hidden = !message;

    const [label, parts] = signText(`${generation}:${kind}`, request);
    $("detail-sign-label").textContent = label;
    $("detail-text").replaceChildren(...parts.map(([title, body, isHash]) => {
      const doc = el("div", "doc");
      if (title) doc.append(el("div", "doc-title", title));
      doc.append(el("p", isHash ? "text hash" : "text", body ?? ""));
      return doc;
    }));

    $("detail-fields-label").textContent = barocert
      ? "The request, decrypted by the sandbox"
      : "The request, as received";
    $("detail-fields").replaceChildren(
      ...flatten(request).flatMap(([name, value]) => [el("dt", null, name), el("dd", null, value)]),
    );
    for (const action of ["sign", "refuse", "expire"]) {
      button(action).hidden = !GENERATIONS[generation].actions.includes(action);
    }
  }

  function flatten(value, prefix = "") {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) {
      return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
    }
    if (typeof value === "object") {
      return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
    }
    return [[prefix, String(value)]];
  }

  function button(action) {
    return document.querySelector(`#detail [data-action="${action}"]`);
  }

  async function refreshOpened() {
    const current = opened;
    if (!current) return;
    const g = GENERATIONS[current.generation];
    const status = await call("GET", g.one + encodeURIComponent(current.id));
    if (opened !== current) return;
    const detail = $("detail");
    detail.dataset.state = String(status.state);
    const done = status.state !== 0;
    let line = stateName(current.generation, status.state);
    if (!done) line += ` · ${timeLeft(status.expireDT)}`;
    else if (ended(status)) line += ` ${ended(status)}`;
    $("detail-state").textContent = line;
    for (const action of g.actions) button(action).disabled = done;
    await showAppToApp(current, status);
  }

  async function showAppToApp(current, status) {
    const box = $("app-to-app");
    box.hidden = !status.appUseYN;
    if (!status.appUseYN) return;
    const note = $("app-to-app-note");
    const code = $("signature");
    const copy = $("copy-signature");
    if (current.generation === "barocert") {
      note.textContent = "Your app opened KakaoTalk with this scheme; after the receiver "
        + "completes, verify with the receipt id alone.";
      code.textContent = status.scheme || "";
      copy.hidden = !status.scheme;
      return;
    }
    if (status.state !== 1) {
      note.textContent = "Once signed, KakaoTalk hands your app a signature; it appears here.";
      code.textContent = "";
      copy.hidden = true;
      return;
    }
    if (current.signature === null) {
      const answer = await call("GET", `${GENERATIONS.kakaocert.one}${encodeURIComponent(current.id)}/signature`);
      current.signature = answer.signature;
    }
    note.textContent = "KakaoTalk hands your app this signature (sig on iOS, signature on "
      + "Android): pass it to verify, as given.";
    code.textContent = current.signature;
    copy.hidden = false;
  }

  async function act(action) {
    const current = opened;
    if (!current) return;
    const g = GENERATIONS[current.generation];
    for (const name of g.actions) button(name).disabled = true;
    try {
      await call("POST", `${g.one}${encodeURIComponent(current.id)}/${action}`);
    } catch (error) {
      notice(error.message);
    }
    await refresh().catch((error) => notice(error.message));
  }

  async function showSettings() {
    try {
      const s = await call("GET", "/_sandbox/settings");
      const signs = s.signAfter === null
        ? "signs only when you sign here"
        : `signs by itself ${s.signAfter} s after a request`;
      $("settings").textContent = `LinkID ${s.linkID} · client code ${s.clientCode} · ${signs}`;
    } catch (error) {
      notice(error.message);
    }
  }

  $("back").addEventListener("click", close);
  for (const action of ["sign", "refuse", "expire"]) {
    button(action).addEventListener("click", () => act(action));
  }
  $("copy-signature").addEventListener("click", () => {
    navigator.clipboard.writeText($("signature").textContent).then(
      () => notice("Copied."),
      () => notice("Select the text to copy it."),
    );
  });

  async function poll() {
    try {
      await refresh();
    } catch (error) {
      notice(`The sandbox does not answer: ${error.message}`);
    }
    setTimeout(poll, POLL_MS);
  }
  showSettings();
  poll();
})();
