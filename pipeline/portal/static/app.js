// Portal rbpipe: page behaviour. Everything comes from this server's JSON API; no inline
// script, no external resource. Text is always set with textContent (never parsed as HTML).
"use strict";

const STATUS_LABEL = {
  belum: "Belum mengirim", diterima: "Diterima", ada_kesalahan: "Ada kesalahan", ditolak: "Ditolak",
  accepted: "Diterima", rejected: "Ditolak", superseded: "Digantikan",
};
const SEVERITY_LABEL = { error: "Kesalahan", warning: "Peringatan" };
const STAGE_LABEL = {
  ingest: "membaca berkas", validate: "memeriksa aturan", metrics: "menghitung metrik",
  publish: "menulis buku kerja", history: "mencatat riwayat",
};
const ROLE_LABEL = { unit: "Unit kerja", analis: "Analis", pimpinan: "Pimpinan" };
const AUDIT_LABEL = {
  masuk: "Masuk", "masuk.gagal": "Gagal masuk", "masuk.dikunci": "Masuk ditolak (akun terkunci)",
  keluar: "Keluar", "akun.sandi": "Ganti kata sandi", "akun.tambah": "Akun ditambahkan",
  "akun.sandi-baru": "Sandi sementara baru", "akun.nonaktif": "Akun dinonaktifkan",
  unggah: "Unggah", "unggah.karantina": "Unggah (berkas unit lain, dikarantina)",
  "unggah.ditolak": "Unggah ditolak", "unggah.gagal": "Unggah gagal", unduh: "Unduh",
  "rekap.mulai": "Rekap dimulai", "rekap.selesai": "Rekap selesai", "rekap.gagal": "Rekap gagal",
};
const WHATSAPP_LABEL = {
  pengingat: "Kirim pengingat", hasil_periksa: "Kirim daftar kesalahan", umpan_balik: "Kirim umpan balik",
};

let SESSION = null;

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function cell(label, content, cls) {
  const td = el("td", { "data-label": label, class: cls || null });
  if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
  return td;
}

function badge(kind, text) { return el("span", { class: `lencana ${kind}`, text }); }

function number(value) { return new Intl.NumberFormat("id-ID").format(value); }

// The month picker is a <select> the server renders with Indonesian labels ("Oktober 2025").
function periodLabel() {
  const picker = $("periode");
  return picker.options[picker.selectedIndex].textContent.trim();
}

function timeOnly(date) {
  return date.toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
}

function dateTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("id-ID", { day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit" });
}

function dateOnly(iso) {
  const d = new Date(iso + "T00:00:00");
  return d.toLocaleDateString("id-ID", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

function show(node, text, kind) {
  node.hidden = !text;
  node.textContent = text || "";
  node.className = "pesan" + (kind ? " " + kind : "");
}

async function api(path, options) {
  const opts = Object.assign({ method: "GET", headers: {} }, options || {});
  if (opts.method !== "GET" && SESSION) opts.headers["X-CSRF-Token"] = SESSION.csrf;
  if (opts.json !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
  }
  const response = await fetch(path, { method: opts.method, headers: opts.headers, body: opts.body,
    credentials: "same-origin" });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { status: response.status, ok: response.ok, data: data || {} };
}

async function loadSession() {
  const answer = await api("/api/sesi");
  SESSION = answer.data;
  return SESSION;
}

function periodInput(onChange) {
  const picker = $("periode");
  picker.addEventListener("change", () => {
    const url = new URL(location.href);
    url.searchParams.set("periode", picker.value);
    history.replaceState(null, "", url);
    onChange(picker.value);
  });
  return picker.value;
}

// ------------------------------------------------------------------------------------------
// Sign-in and password
// ------------------------------------------------------------------------------------------

function pageMasuk() {
  $("form-masuk").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = $("pesan-masuk");
    const answer = await api("/api/masuk", { method: "POST",
      json: { nama: $("nama").value.trim(), sandi: $("sandi").value } });
    if (!answer.ok) {
      show(message, answer.data.pesan || "Gagal masuk.", "galat");
      $("sandi").value = "";
      await loadSession();
      return;
    }
    location.href = answer.data.pengguna.sandi_sementara ? "/sandi" : "/";
  });
}

function pageSandi() {
  $("form-sandi").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = $("pesan-sandi");
    if ($("sandi-baru").value !== $("sandi-ulang").value) {
      show(message, "Kedua isian kata sandi baru tidak sama.", "galat");
      return;
    }
    const answer = await api("/api/sandi", { method: "POST",
      json: { sandi_lama: $("sandi-lama").value, sandi_baru: $("sandi-baru").value } });
    if (!answer.ok) { show(message, answer.data.pesan || "Gagal mengganti kata sandi.", "galat"); return; }
    show(message, answer.data.pesan, "baik");
    setTimeout(() => { location.href = "/"; }, 600);
  });
}

// ------------------------------------------------------------------------------------------
// Unit home
// ------------------------------------------------------------------------------------------

function problemRows(problems) {
  const body = $("tabel-masalah").tBodies[0];
  body.replaceChildren();
  for (const p of problems) {
    const where = p.cell || (p.sheet ? `Lembar ${p.sheet}` : "Berkas");
    body.append(el("tr", { class: p.severity },
      cell("Tingkat", badge(p.severity === "error" ? "kesalahan" : "peringatan", SEVERITY_LABEL[p.severity])),
      cell("Sel", where, "sel"),
      cell("Kolom", p.kolom || p.field || "–"),
      cell("Nilai", p.value ?? "–"),
      cell("Masalah", `${p.message} (${p.code})`),
      cell("Cara memperbaiki", p.hint || "–")));
  }
}

// What became of an upload, in one sentence: [colour, what happened, what to do].
// Rejected: red with the reason; received with errors: amber with the count; clean: green.
function verdict(upload) {
  if (upload.karantina) {
    return ["galat", "tidak dimasukkan ke kiriman bulan ini karena teridentifikasi sebagai laporan unit lain",
      "Unggah laporan unit Anda sendiri."];
  }
  if (upload.status === "rejected") {
    const first = (upload.masalah || []).find((p) => p.severity === "error");
    const reason = first ? first.message.replace(/\.$/, "") : "berkas tidak dapat direkap";
    return ["galat", `ditolak dan tidak akan direkap: ${reason}`,
      "Perbaiki berkasnya, lalu unggah lagi."];
  }
  if (upload.kesalahan) {
    const warnings = upload.peringatan
      ? ` Periksa juga ${number(upload.peringatan)} peringatan; bila datanya memang benar, tidak perlu diubah.` : "";
    return ["waspada", `diterima, tetapi ada ${number(upload.kesalahan)} kesalahan yang harus diperbaiki`,
      `Perbaiki di Excel pada sel yang tercantum di bawah, lalu unggah lagi.${warnings}`];
  }
  if (upload.peringatan) {
    return ["baik", `diterima tanpa kesalahan, dengan ${number(upload.peringatan)} peringatan`,
      "Periksa peringatannya; bila datanya memang benar, tidak perlu diubah."];
  }
  return ["baik", "diterima tanpa masalah dan siap direkap", ""];
}

function showResult(upload) {
  $("hasil").hidden = false;
  $("hasil-judul").textContent = `Hasil pemeriksaan: ${upload.berkas}`;
  const link = $("tautan-umpan-balik");
  link.href = upload.umpan_balik;
  link.hidden = upload.karantina;
  const [kind, what, todo] = verdict(upload);
  show($("hasil-ringkas"), `${upload.berkas} ${what}. ${todo}`.trim(), kind);
  $("hasil-ringkas").classList.add("ringkas");
  problemRows(upload.masalah);
}

async function loadHistory(periode) {
  const answer = await api(`/api/kiriman?periode=${periode}`);
  const body = $("tabel-riwayat").tBodies[0];
  body.replaceChildren();
  const items = answer.data.kiriman || [];
  $("riwayat-kosong").hidden = items.length > 0;
  for (const k of items) {
    const status = k.karantina ? "ditolak" : (k.status === "accepted" ? (k.kesalahan ? "ada_kesalahan" : "diterima") : "ditolak");
    const view = el("button", { type: "button", class: "tombol tombol-kecil tombol-garis", text: "Lihat" });
    view.addEventListener("click", () => { showResult(k); $("hasil").scrollIntoView(); });
    body.append(el("tr", {},
      cell("Waktu", dateTime(k.diterima)),
      cell("Berkas", k.berkas),
      cell("Status", badge(status, k.karantina ? "Unit lain" : STATUS_LABEL[status])),
      cell("Kesalahan", number(k.kesalahan), "angka"),
      cell("Peringatan", number(k.peringatan), "angka"),
      cell("", view)));
  }
  return items;
}

async function loadOfficial(periode) {
  const holder = $("umpan-balik-resmi");
  const answer = await api(`/api/hasil/${periode}`);
  const names = (answer.data.berkas || []);
  holder.replaceChildren();
  if (names.length) {
    for (const name of names) {
      holder.append(el("a", { href: `/api/hasil/${periode}/${name}`, text: "Umpan balik resmi hasil rekap" }),
        el("span", { class: "redup kecil", text: name.split("/").pop() }));
    }
  } else {
    holder.append(el("span", { class: "redup", text: "Umpan balik resmi: belum ada rekap bulan ini." }));
  }
}

async function upload(file, periode) {
  const zone = $("zona-unggah");
  const message = $("pesan-unggah");
  const form = new FormData();
  form.append("berkas", file);
  form.append("periode", periode);
  zone.classList.add("sibuk");
  show(message, `Mengunggah dan memeriksa ${file.name} …`);
  try {
    const response = await fetch("/api/kiriman", { method: "POST", body: form,
      headers: { "X-CSRF-Token": SESSION.csrf }, credentials: "same-origin" });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 201) {
      const [kind, what] = verdict(data);
      show(message, `${file.name} ${what}.`, kind);
      showResult(data);
    } else if (response.status === 422) {
      show(message, data.pesan, "galat");
      showResult(data);
    } else {
      show(message, data.pesan || `Unggahan gagal (kode ${response.status}).`, "galat");
    }
  } catch (e) {
    show(message, "Koneksi ke server terputus. Coba lagi.", "galat");
  } finally {
    zone.classList.remove("sibuk");
    $("berkas").value = "";
    loadHistory(periode);
  }
}

function pageUnit() {
  let periode = periodInput((value) => { periode = value; refresh(); });
  function refresh() {
    const deadline = SESSION.bulan;
    $("judul-bulan").textContent = `Laporan ${periodLabel()}`;
    if (periode === deadline.periode) {
      const left = deadline.sisa_hari;
      const tail = left > 0 ? `${left} hari lagi` : (left === 0 ? "hari ini" : `sudah lewat ${number(-left)} hari`);
      $("info-batas").textContent = `Batas pengiriman: ${dateOnly(deadline.batas)} (${tail}).`;
    } else {
      $("info-batas").textContent = "";
    }
    $("tautan-templat").href = `/api/templat?periode=${periode}`;
    $("tautan-templat").textContent = `Templat ${periodLabel()} (.xlsx)`;
    $("hasil").hidden = true;
    loadHistory(periode);
    loadOfficial(periode);
  }
  const zone = $("zona-unggah");
  $("berkas").addEventListener("change", () => { if ($("berkas").files.length) upload($("berkas").files[0], periode); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("aktif"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("aktif"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("aktif");
    if (e.dataTransfer.files.length) upload(e.dataTransfer.files[0], periode);
  });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("berkas").click(); } });
  refresh();
}

// ------------------------------------------------------------------------------------------
// Board
// ------------------------------------------------------------------------------------------

const BOARD = { data: null, timer: null, task: null };

function kpiBox(value, label) {
  return el("div", { class: "kpi-kotak" }, el("div", { class: "kpi-angka", text: value }),
    el("div", { class: "kpi-label", text: label }));
}

function renderBoard() {
  const data = BOARD.data;
  if (!data) return;
  const k = data.kpi;
  $("kpi").replaceChildren(
    kpiBox(`${number(k.mengirim)}/${number(k.unit)}`, "unit sudah mengirim"),
    kpiBox(number(k.tepat_waktu), "tepat waktu"),
    kpiBox(number(k.diterima), "diterima tanpa kesalahan"),
    kpiBox(number(k.ada_kesalahan), "diterima, ada kesalahan"),
    kpiBox(number(k.ditolak), "ditolak"),
    kpiBox(number(k.belum), "belum mengirim"));
  const filter = $("saring-status").value;
  const search = $("saring-cari").value.trim().toLowerCase();
  const body = $("tabel-papan").tBodies[0];
  body.replaceChildren();
  // WhatsApp links (analyst only): the column shows when at least one unit has one.
  const withWhatsapp = data.unit.some((u) => u.whatsapp);
  if ($("kolom-wa")) $("kolom-wa").hidden = !withWhatsapp;
  for (const u of data.unit) {
    if (filter === "terlambat" ? u.tepat_waktu !== false : (filter && u.status !== filter)) continue;
    if (search && !(`${u.kode} ${u.nama}`.toLowerCase().includes(search))) continue;
    const onTime = u.tepat_waktu === null ? badge("belum", "–") : (u.tepat_waktu ? badge("ya", "Ya") : badge("ditolak", "Terlambat"));
    body.append(el("tr", { "data-kode": u.kode, "data-status": u.status },
      cell("Unit", el("span", {}, el("strong", { text: u.nama }), el("br"), el("span", { class: "redup kecil", text: u.kode }))),
      cell("Status", badge(u.status, STATUS_LABEL[u.status])),
      cell("Unggahan terakhir", dateTime(u.terakhir)),
      cell("Tepat waktu", onTime),
      cell("Kesalahan", number(u.kesalahan), "angka"),
      cell("Peringatan", number(u.peringatan), "angka"),
      withWhatsapp ? cell("WhatsApp", whatsappLink(u)) : null));
  }
  $("info-papan").textContent = `Batas pengiriman ${dateOnly(data.batas)}` +
    (data.rekap_terakhir ? ` · rekap terakhir ${dateTime(data.rekap_terakhir)}` : " · belum direkap") +
    ` · diperbarui pukul ${timeOnly(new Date())}`;
}

// A click-to-chat link: WhatsApp opens in a new tab with the text typed in, when the analyst
// clicks it (the page itself requests nothing from elsewhere).
function whatsappLink(u) {
  if (!u.whatsapp) return "–";
  return el("a", { class: "tombol tombol-kecil tombol-wa", href: u.whatsapp.tautan, target: "_blank",
    rel: "noopener noreferrer", title: `Buka WhatsApp dengan pesan untuk ${u.nama}`,
    "data-jenis": u.whatsapp.jenis, text: WHATSAPP_LABEL[u.whatsapp.jenis] || "Kirim pesan" });
}

async function loadBoard(periode) {
  const answer = await api(`/api/papan?periode=${periode}`);
  if (answer.ok) { BOARD.data = answer.data; renderBoard(); }
}

async function loadOutputs(periode) {
  const answer = await api(`/api/hasil/${periode}`);
  const list = $("daftar-hasil");
  list.replaceChildren();
  const names = answer.data.berkas || [];
  if (!names.length) list.append(el("li", { class: "redup", text: "Belum ada hasil rekap untuk bulan ini." }));
  const main = names.filter((n) => !n.startsWith("umpan_balik/"));
  const feedback = names.filter((n) => n.startsWith("umpan_balik/"));
  for (const name of main) list.append(el("li", {}, el("a", { href: `/api/hasil/${periode}/${name}`, text: name })));
  if (feedback.length) {
    const details = el("details", {}, el("summary", { text: `Umpan balik per unit (${feedback.length} berkas)` }));
    const inner = el("ul", { class: "daftar-unduh" });
    for (const name of feedback) inner.append(el("li", {}, el("a", { href: `/api/hasil/${periode}/${name}`, text: name.split("/").pop() })));
    details.append(inner);
    list.append(el("li", {}, details));
  }
}

async function pollTask(periode) {
  const answer = await api(`/api/rekap/${BOARD.task}`);
  const info = answer.data;
  const bar = $("kemajuan");
  const message = $("pesan-rekap");
  bar.hidden = false;
  $("kemajuan-isi").style.width = `${Math.round((info.kemajuan || 0) * 100)}%`;
  if (info.status === "selesai") {
    show(message, (info.ringkasan && info.ringkasan.baris || []).join("\n") || "Rekap selesai.", "baik");
    $("tombol-rekap").disabled = false;
    BOARD.task = null;
    loadBoard(periode); loadOutputs(periode);
    return;
  }
  if (info.status === "gagal") {
    show(message, (info.ringkasan && info.ringkasan.pesan) || "Rekap gagal.", "galat");
    $("tombol-rekap").disabled = false;
    BOARD.task = null;
    return;
  }
  show(message, info.status === "menunggu" ? "Rekap menunggu giliran …" : `Rekap berjalan: ${STAGE_LABEL[info.tahap] || "memulai"} …`);
  setTimeout(() => pollTask(periode), 1000);
}

function pageBoard() {
  let periode = periodInput((value) => { periode = value; loadBoard(periode); loadOutputs(periode); });
  $("saring-status").addEventListener("change", renderBoard);
  $("saring-cari").addEventListener("input", renderBoard);
  const button = $("tombol-rekap");
  if (button) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      const answer = await api("/api/rekap", { method: "POST", json: { periode } });
      if (answer.status !== 202) {
        show($("pesan-rekap"), answer.data.pesan || "Rekap tidak dapat dimulai.", "galat");
        button.disabled = false;
        return;
      }
      BOARD.task = answer.data.tugas;
      pollTask(periode);
    });
  }
  loadBoard(periode);
  loadOutputs(periode);
  BOARD.timer = setInterval(() => { if (!document.hidden) loadBoard(periode); }, 3000);
}

// ------------------------------------------------------------------------------------------
// Accounts and audit log
// ------------------------------------------------------------------------------------------

async function loadAccounts() {
  const answer = await api("/api/akun");
  const body = $("tabel-akun").tBodies[0];
  body.replaceChildren();
  for (const a of answer.data.akun || []) {
    const actions = el("span", {});
    if (a.aktif) {
      const reset = el("button", { type: "button", class: "tombol tombol-kecil tombol-garis", text: "Sandi baru" });
      reset.addEventListener("click", async () => {
        const r = await api(`/api/akun/${encodeURIComponent(a.nama)}/sandi-baru`, { method: "POST" });
        showPassword(r, a.nama);
        loadAccounts();
      });
      const off = el("button", { type: "button", class: "tombol tombol-kecil tombol-garis", text: "Nonaktifkan" });
      off.addEventListener("click", async () => {
        if (!confirm(`Nonaktifkan akun ${a.nama}?`)) return;
        await api(`/api/akun/${encodeURIComponent(a.nama)}/nonaktif`, { method: "POST" });
        loadAccounts();
      });
      actions.append(reset, " ", off);
    }
    body.append(el("tr", {},
      cell("Nama", a.nama), cell("Peran", ROLE_LABEL[a.peran] || a.peran), cell("Unit", a.unit || "–"),
      cell("Keadaan", badge(a.aktif ? "diterima" : "belum", a.aktif ? (a.sandi_sementara ? "Aktif, sandi sementara" : "Aktif") : "Nonaktif")),
      cell("Dibuat", dateTime(a.dibuat)), cell("", actions)));
  }
}

function showPassword(answer, nama) {
  const message = $("pesan-akun");
  if (!answer.ok) { show(message, answer.data.pesan || "Gagal.", "galat"); return; }
  message.hidden = false;
  message.className = "pesan baik";
  message.replaceChildren(`Kata sandi sementara untuk ${nama} (hanya ditampilkan sekali): `,
    el("span", { class: "sandi-sekali", text: answer.data.sandi }));
}

function pageAccounts() {
  $("form-akun").addEventListener("submit", async (event) => {
    event.preventDefault();
    const nama = $("akun-nama").value.trim();
    const answer = await api("/api/akun", { method: "POST",
      json: { nama, peran: $("akun-peran").value, unit: $("akun-unit").value.trim() || null } });
    showPassword(answer, nama);
    if (answer.ok) { $("form-akun").reset(); loadAccounts(); }
  });
  loadAccounts();
}

async function pageAudit() {
  const answer = await api("/api/audit?batas=500");
  const body = $("tabel-audit").tBodies[0];
  for (const r of answer.data.audit || []) {
    const action = el("span", { title: r.aksi, text: AUDIT_LABEL[r.aksi] || r.aksi });
    body.append(el("tr", {}, cell("Waktu", dateTime(r.waktu), "waktu"), cell("Pengguna", r.nama || "–"),
      cell("Peran", ROLE_LABEL[r.peran] || r.peran || "–"), cell("Aksi", action), cell("Rincian", r.rincian),
      cell("Alamat", r.alamat || "–")));
  }
}

// ------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  await loadSession();
  const out = $("tombol-keluar");
  if (out) {
    out.addEventListener("click", async () => {
      await api("/api/keluar", { method: "POST" });
      location.href = "/masuk";
    });
  }
  const page = document.body.dataset.halaman;
  const pages = { masuk: pageMasuk, sandi: pageSandi, unit: pageUnit, papan: pageBoard,
    akun: pageAccounts, audit: pageAudit };
  if (pages[page]) pages[page]();
});
