// The virtual phone: lists the sandbox's receipts and plays their receiver, through the
// JSON control routes under /_sandbox. Values are shown as text (textContent), never as
// HTML, and never written to the console: they hold the receiver's personal data.
"use strict";

(() => {
  const POLL_MS = 1000;
  // Each generation's receipts (its control routes), and the names of their states.
  const BASES = { kakaocert: "/_sandbox/receipts", barocert: "/_sandbox/barocert/receipts" };
  const STATES = {
    kakaocert: ["Pending · 대기", "Signed · 서명완료", "Expired · 만료"],
    barocert: ["Waiting · 대기", "Completed · 완료", "Expired · 만료", "Refused · 거절", "Failed · 실패"],
  };
  // Each kind's badge, and what its receiver signs: a label, and the parts as [title, text].
  const KINDS = {
    esign: ["전자서명 e-signature", (r) => ["Text to sign · 전자서명", [[null, r.Token]]]],
    identity: ["본인인증 identity", (r) => ["One-time token to sign · 본인인증", [[null, r.Token]]]],
    cms: ["출금동의 CMS", (r) => ["Withdrawal consent to sign · 출금동의", [
      [null, r.Token],
      ["Account", `${r.BankCode} ${r.BankAccountNum} (${r.BankAccountName})`],
      ["Payer number", r.ClientUserID],
    ]]],
    Identity: ["Barocert 본인인증", (r) => ["One-time token to sign · 본인인증", [[null, r.token]]]],
    Sign: ["Barocert 전자서명", (r) => [
      r.tokenType === "HASH" ? "Hash of the document to sign" : "Text to sign",
      [[null, r.token]],
    ]],
    MultiSign: ["Barocert 복수서명", (r) => [
      r.tokenType === "HASH" ? "Hashes of the documents to sign" : "Documents to sign",
      r.tokens.map((doc) => [doc.signTitle, doc.token]),
    ]],
    CMS: ["Barocert 출금동의", (r) => ["Withdrawal consent to sign · 출금동의", [
      ["Requested by", r.requestCorp],
      ["Account", `${r.bankName} ${r.bankAccountNum} (${r.bankAccountName})`],
      ["Service", r.bankServiceType],
    ]]],
  };

  const $ = (id) => document.getElementById(id);
  const actions = document.querySelectorAll("#detail [data-action]");
  let serverOffset = 0; // the sandbox clock minus this browser's, in ms
  let listed = []; // the receipts on show, newest first: {generation, one, status}
  let opened = null; // the one open: an entry of `listed`, with its App to App signature
  let noticeTimer = null;

  async function call(method, path) {
    const response = await fetch(path, { method, cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (response.ok) return body;
    throw new Error(body.message || `${method} ${path}: HTTP ${response.status}`);
  }

  function notice(text) {
    Object.assign($("notice"), { textContent: text, hidden: false });
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { $("notice").hidden = true; }, 5000);
  }

  const el = (tag, text, className = "") =>
    Object.assign(document.createElement(tag), { className, textContent: text });

  // Sets the text of each element of root that a selector finds.
  const fill = (root, texts) => Object.entries(texts).forEach(([selector, text]) => {
    root.querySelector(selector).textContent = text;
  });

  // A pending receipt's time left, or when a final one ended. The service's times are
  // Korea time ("yyyyMMddHHmmss"), shown as such whatever the zone of this machine:
  // expired at its expiry; signed, refused or failed at its completeDT (a refusal may
  // have none: then no time is shown).
  const KST = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/;
  function when(status) {
    if (status.state === 0) {
      const end = Date.parse(status.expireDT.replace(KST, "$1-$2-$3T$4:$5:$6+09:00"));
      const left = Math.max(0, Math.round((end - Date.now() - serverOffset) / 1000));
      return `expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    }
    const end = status.state === 2 ? status.expireDT : status.completeDT;
    return end ? end.replace(KST, "at $4:$5:$6 KST") : "";
  }

  // The list ------------------------------------------------------------------

  async function refresh() {
    const lists = await Promise.all(Object.values(BASES).map((base) => call("GET", base)));
    serverOffset = Date.parse(lists[0].time) - Date.now();
    listed = Object.keys(BASES).flatMap((generation, i) => lists[i].receipts.map((status) => ({
      generation,
      status,
      one: `${BASES[generation]}/${encodeURIComponent(status.receiptID)}`,
    }))).sort((a, b) => b.status.requestDT.localeCompare(a.status.requestDT));
    render();
    await showOpened();
  }

  // Rows are kept across polls (moved, not rebuilt), so a row keeps its focus.
  function render() {
    const list = $("receipts");
    $("empty").hidden = listed.length > 0;
    listed.forEach(({ generation, status }, index) => {
      const row = list.querySelector(`[data-receipt-id="${status.receiptID}"]`)
        || $("row").content.firstElementChild.cloneNode(true);
      row.dataset.receiptId = status.receiptID;
      row.querySelector(".chip").className = `chip chip-${status.state}`;
      fill(row, {
        ".title": status.tmstitle || status.reqTitle || "(no title)",
        ".kind": KINDS[status.family || status.kind][0],
        ".chip": STATES[generation][status.state],
        ".meta": [status.appUseYN ? "App to App" : "KakaoTalk message", when(status)]
          .filter(Boolean).join(" · "),
      });
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
    });
    while (list.children.length > listed.length) list.lastElementChild.remove();
  }

  // One receipt, as the receiver sees it ---------------------------------------

  async function open(entry) {
    if (entry.status.state === 0) await call("POST", `${entry.one}/open`).catch(() => {});
    const { request } = await call("GET", `${entry.one}/request`);
    opened = { ...entry, signature: null };
    showRequest(entry, request);
    await showOpened();
    $("inbox").hidden = true;
    $("detail").hidden = false;
  }

  function showRequest({ generation, status }, request) {
    const from = [status.clientName, status.subClientName, status.callCenterName,
      status.callCenterNum].filter(Boolean);
    const message = request.TMSMessage || request.extraMessage || "";
    const [label, parts] = KINDS[status.family || status.kind][1](request);
    $("detail").dataset.receiptId = status.receiptID;
    fill(document, {
      "#detail-from": [...new Set(from)].join(" · "),
      "#detail-title": request.TMSTitle || request.signTitle || request.reqTitle || "(no title)",
      "#detail-message": message,
      "#detail-sign-label": label,
      "#detail-fields-label":
        `The request, ${generation === "barocert" ? "decrypted by the sandbox" : "as received"}`,
    });
    $("detail-message").hidden = !message;
    $("detail-text").classList.toggle("hash", request.tokenType === "HASH");
    $("detail-text").replaceChildren(...parts.filter((part) => part[1]).flatMap(([title, text]) =>
      [...(title ? [el("div", title, "doc-title")] : []), el("p", text, "text")]));
    $("detail-fields").replaceChildren(
      ...flatten(request).flatMap(([name, value]) => [el("dt", name), el("dd", value)]),
    );
  }

  // A request's fields as [name, text], nested names joined: a.b, a[0].
  function flatten(value, prefix = "") {
    if (value === null) return [];
    if (typeof value !== "object") return [[prefix, String(value)]];
    const name = (key) => (Array.isArray(value) ? `${prefix}[${key}]` : `${prefix}.${key}`);
    return Object.entries(value).flatMap(([k, inner]) => flatten(inner, prefix ? name(k) : k));
  }

  async function showOpened() {
    const current = opened;
    if (!current) return;
    const status = await call("GET", current.one);
    if (opened !== current) return;
    const barocert = current.generation === "barocert";
    $("detail").dataset.state = status.state;
    $("detail-state").textContent = [STATES[current.generation][status.state], when(status)]
      .filter(Boolean).join(status.state === 0 ? " · " : " ");
    for (const button of actions) {
      button.hidden = button.dataset.action === "refuse" && !barocert; // Barocert's alone
      button.disabled = status.state !== 0;
    }
    // App to App: what KakaoTalk hands the partner's app, once it hands anything.
    $("app-to-app").hidden = !status.appUseYN;
    if (!status.appUseYN) return;
    let note = "Once signed, KakaoTalk hands your app a signature; it appears here.";
    let code = "";
    if (barocert) {
      note = "Your app opened KakaoTalk with this scheme; after the receiver "
        + "completes, verify with the receipt id alone.";
      code = status.scheme || "";
    } else if (status.state === 1) {
      current.signature ??= (await call("GET", `${current.one}/signature`)).signature;
      note = "KakaoTalk hands your app this signature (sig on iOS, signature on "
        + "Android): pass it to verify, as given.";
      code = current.signature;
    }
    fill(document, { "#app-to-app-note": note, "#signature": code });
    $("copy-signature").hidden = !code;
  }

  async function act(action) {
    for (const button of actions) button.disabled = true;
    await call("POST", `${opened.one}/${action}`).catch((error) => notice(error.message));
    await refresh().catch((error) => notice(error.message));
  }

  $("receipts").addEventListener("click", (event) => {
    const row = event.target.closest("li");
    const entry = row && listed.find((e) => e.status.receiptID === row.dataset.receiptId);
    if (entry) open(entry).catch((error) => notice(error.message));
  });
  $("back").addEventListener("click", () => {
    opened = null;
    $("detail").hidden = true;
    $("inbox").hidden = false;
  });
  for (const button of actions) button.addEventListener("click", () => act(button.dataset.action));
  $("copy-signature").addEventListener("click", () => {
    navigator.clipboard.writeText($("signature").textContent).then(
      () => notice("Copied."),
      () => notice("Select the text to copy it."),
    );
  });

  call("GET", "/_sandbox/settings").then((s) => {
    const signs = s.signAfter === null
      ? "signs only when you sign here"
      : `signs by itself ${s.signAfter} s after a request`;
    $("settings").textContent = `LinkID ${s.linkID} · client code ${s.clientCode} · ${signs}`;
  }, (error) => notice(error.message));

  (async function poll() {
    await refresh().catch((error) => notice(`The sandbox does not answer: ${error.message}`));
    setTimeout(poll, POLL_MS);
  })();
})();
