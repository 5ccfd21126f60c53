"""Command-line interface (``rbpipe``): a thin shell over the stage functions.

Heavy libraries (pandas, Great Expectations, openpyxl, xlsxwriter) are imported inside the
commands so that ``rbpipe --help`` answers at once.

Exit codes: 0 done; 1 ``check`` found errors; 2 the command could not run (bad option, missing
folder, unwritable outputs, outputs locked); 3 unexpected internal failure.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from pipeline import __version__, cli_i18n
from pipeline.errors import RunError

cli_i18n.install()

EXIT_CANNOT_RUN = 2
EXIT_INTERNAL = 3

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _period(ctx, param, value):
    if value is None:
        return None
    from pipeline.registry import Period

    try:
        return Period.parse(value)
    except RunError as exc:
        raise click.BadParameter(str(exc)) from None


def period_option(required: bool = True):
    return click.option(
        "--period",
        "-p",
        "period",
        metavar="YYYY-MM",
        required=required,
        callback=_period,
        help="Bulan laporan, misalnya 2025-10."
        + ("" if required else " Bawaan: dikenali dari isi atau nama berkas."),
    )


registry_option = click.option(
    "--registry",
    "registry_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder berisi unit_kerja.csv, referensi.csv dan pengaturan.toml. Bawaan: folder "
    "--inputs (untuk run) atau inputs/ repositori; berkas yang tidak ada diambil dari bawaan.",
)
inputs_option = click.option(
    "--inputs",
    "inputs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inputs"),
    show_default=True,
    help="Folder masukan; kiriman bulan ini di <inputs>/<YYYY-MM>/.",
)
outputs_option = click.option(
    "--outputs",
    "outputs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Folder keluaran; hasil ditulis ke <outputs>/<YYYY-MM>/.",
)
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Tampilkan rincian teknis bila terjadi kegagalan."
)


class Guarded(click.Command):
    """Indonesian metavars; turns RunError into a one-line Indonesian message, and any other exception into a short
    message (the traceback only with --verbose)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPSI]")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RunError as exc:
            click.echo(f"Gagal: {exc}", err=True)
            ctx.exit(EXIT_CANNOT_RUN)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader of our output went away (`rbpipe rules | head`): not a failure.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the exit-time flush
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("Dibatalkan oleh pengguna.", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence for the user
            from pipeline.fsutil import disk_full

            if disk_full(exc) and not ctx.params.get("verbose"):
                click.echo(
                    "Gagal: ruang penyimpanan (disk) penuh, perintah dihentikan. Tidak ada "
                    "berkas setengah jadi: setiap berkas hasil masih versi lama atau sudah versi "
                    f"baru yang utuh. Kosongkan ruang disk, lalu jalankan ulang. ({exc})",
                    err=True,
                )
                ctx.exit(EXIT_CANNOT_RUN)
            if ctx.params.get("verbose"):
                raise
            click.echo(
                f"Gagal karena kesalahan internal ({type(exc).__name__}: {exc}). "
                "Jalankan ulang dengan --verbose untuk rinciannya dan laporkan ke pengembang.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(
    "rbpipe",
    context_settings=CONTEXT,
    options_metavar="[OPSI]",
    subcommand_metavar="PERINTAH [ARG]...",
)
@click.version_option(__version__, "--version", message="rbpipe %(version)s")
def cli():
    """rbpipe: rekap bulanan Rencana Aksi Reformasi Birokrasi (RB Umum dan RB Tematik).

    \b
    Alur kerja bulanan Bagian Organisasi:
      1. rbpipe template --period 2025-10 --out templat/   (bagikan ke unit kerja)
      2. simpan kiriman unit di inputs/2025-10/
      3. rbpipe run --period 2025-10                        (rekap, metrik, umpan balik)

    Unit kerja dapat memeriksa berkasnya sendiri sebelum mengirim: rbpipe check BERKAS.xlsx
    """


@cli.command(cls=Guarded, context_settings=CONTEXT)
@period_option()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder tujuan templat.",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="KODE",
    help="Kode unit (boleh diulang). Bawaan: semua unit di daftar unit kerja.",
)
@click.option(
    "--isi-dari-riwayat",
    "prefill",
    is_flag=True,
    help="Isi templat dari bulan terakhir yang diterima di riwayat (rencana aksi, teks, target, "
    "realisasi triwulan yang sudah lewat); sel bulan ini dibiarkan kosong untuk diperbarui.",
)
@click.option(
    "--outputs",
    "outputs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Folder keluaran yang memuat riwayat.sqlite (untuk --isi-dari-riwayat).",
)
@registry_option
@verbose_option
def template(period, out, units, prefill, outputs, registry_dir, verbose):
    """Buat templat isian (satu berkas .xlsx per unit kerja).

    Setiap berkas bernama <KODE>_<YYYY-MM>.xlsx, dengan lembar Identitas yang sudah terisi,
    daftar pilihan (Sasaran RB, Tema, Satuan) dan validasi angka. Dengan --isi-dari-riwayat,
    rencana aksi unit diisi dari bulan terakhirnya yang diterima pada tahun yang sama.

    Contoh: rbpipe template --period 2025-10 --out templat/ --unit DINKES --isi-dari-riwayat
    """
    from pipeline.registry import load_registry
    from pipeline.template import write_templates

    registry = load_registry(registry_dir)
    if not prefill:
        paths = write_templates(out, period, registry, units=list(units) or None)
        click.echo(f"{len(paths)} templat untuk {period.label} ditulis ke {out}/")
        return
    from pipeline.fsutil import write_bytes_atomic
    from pipeline.outputs import OutputLayout
    from pipeline.prefill import prefilled_template
    from pipeline.template import template_name

    wanted = [registry.unit(u) for u in units] if units else list(registry.units)
    missing = [u for u, found in zip(units, wanted, strict=False) if found is None]
    if missing:
        raise RunError(f"Kode unit tidak ada di daftar unit kerja: {', '.join(missing)}.")
    filled = 0
    for unit in wanted:
        history = OutputLayout(outputs=outputs, period=period).history
        month, data = prefilled_template(history, unit, period, registry)
        write_bytes_atomic(Path(out) / template_name(unit.kode, period), data)
        filled += month is not None
    click.echo(
        f"{len(wanted)} templat untuk {period.label} ditulis ke {out}/ "
        f"({filled} terisi dari riwayat, {len(wanted) - filled} kosong)"
    )


@cli.command(cls=Guarded, context_settings=CONTEXT)
@period_option()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder tujuan kiriman contoh, biasanya inputs/<YYYY-MM>.",
)
@click.option(
    "--seed", default=2025, show_default=True, metavar="N", help="Benih acak (hasil selalu sama)."
)
@click.option(
    "--units",
    "n_units",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Buat daftar unit sintetis sebanyak N unit (uji skala); daftar ditulis ke "
    "<out>/../unit_kerja.csv, yang dipakai 'rbpipe run --inputs <out>/..'.",
)
@click.option(
    "--plans",
    "n_plans",
    type=click.IntRange(min=2),
    default=None,
    metavar="N",
    help="Jumlah rencana aksi per unit (bawaan: acak 6-14, realistis).",
)
@registry_option
@verbose_option
def demo(period, out, seed, n_units, n_plans, registry_dir, verbose):
    """Buat satu bulan kiriman contoh yang realistis (untuk mencoba dan menguji).

    Sebagian besar unit mengirim, beberapa tidak; berkas memuat berbagai kekeliruan yang
    biasa terjadi (judul kolom bergeser, angka berformat teks, baris subtotal, berkas ganda,
    berkas bulan lain, berkas bukan Excel) dan pelanggaran aturan.

    Contoh: rbpipe demo --period 2025-10 --out inputs/2025-10 --seed 7
    """
    from pipeline.demo import generate_month
    from pipeline.registry import load_registry

    registry = load_registry(registry_dir)
    plan = generate_month(out, period, registry, seed=seed, n_units=n_units, n_plans=n_plans)
    click.echo(
        f"Data contoh {period.label}: {len(plan.files)} berkas dari "
        f"{len(plan.submitting_units)} unit ditulis ke {out}/"
    )


@cli.command(cls=Guarded, context_settings=CONTEXT)
@period_option()
@inputs_option
@outputs_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Jumlah proses pembaca berkas (bawaan: jumlah inti CPU).",
)
@click.option(
    "--tunggu", is_flag=True, help="Bila folder keluaran sedang dipakai proses lain, tunggu."
)
@click.option(
    "--tanpa-cache",
    "no_cache",
    is_flag=True,
    help="Baca dan periksa semua berkas dari awal, tanpa memakai cache rekap sebelumnya.",
)
@registry_option
@verbose_option
def run(period, inputs, outputs, workers, tunggu, no_cache, registry_dir, verbose):
    """Rekap satu bulan: baca, periksa, konsolidasikan, hitung metrik, tulis umpan balik.

    Keluar dengan kode 0 bila rekap selesai, apa pun masalah data yang ditemukan (masalah data
    dicatat di buku kerja dan manifest); kode 2 bila rekap tidak dapat dijalankan.

    Rekap ulang bulan yang sama hanya membaca, memeriksa dan menulis ulang yang berubah
    (cache di <keluaran>/.cache/, boleh dihapus kapan saja); hasilnya sama persis dengan rekap
    dari awal.

    Contoh: rbpipe run --period 2025-10 --inputs inputs --outputs outputs
    """
    from pipeline.run import run_month, summary_lines

    result = run_month(
        period,
        inputs=inputs,
        outputs=outputs,
        workers=workers,
        wait=tunggu,
        registry_dir=registry_dir,
        on_wait=click.echo,
        use_cache=not no_cache,
    )
    for line in summary_lines(result):
        click.echo(line)


@cli.command(cls=Guarded, context_settings=CONTEXT)
@click.argument(
    "files",
    nargs=-1,
    required=True,
    metavar="BERKAS...",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@period_option(required=False)
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@registry_option
@click.option(
    "--outputs",
    "outputs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder keluaran rekap: riwayatnya (riwayat.sqlite, hanya dibaca) dipakai untuk "
    "memeriksa perubahan target dibanding bulan terakhir unit yang diterima (RB-W102), seperti "
    "saat rekap. Tanpa opsi ini perubahan target tidak diperiksa.",
)
@verbose_option
def check(files, period, as_json, registry_dir, outputs, verbose):
    """Periksa berkas sendiri sebelum dikirim (untuk unit kerja).

    Menampilkan setiap masalah per lembar beserta alamat selnya. Keluar dengan kode 1 bila ada
    kesalahan (error), 0 bila tidak ada.

    Contoh: rbpipe check DINKES_2025-10.xlsx --outputs outputs
    """
    from pipeline.run import check_files, format_check

    report = check_files(list(files), period=period, registry_dir=registry_dir, outputs=outputs)
    for note in report.notes:
        click.echo(note, err=True)
    click.echo(format_check(report, as_json=as_json))
    sys.exit(1 if report.has_errors else 0)


@cli.command(cls=Guarded, context_settings=CONTEXT)
@period_option()
@inputs_option
@outputs_option
@click.option(
    "--kirim",
    "send_mail",
    is_flag=True,
    help="Kirim surel lewat SMTP (tanpa opsi ini surel hanya ditulis sebagai berkas .eml).",
)
@click.option(
    "--smtp",
    metavar="HOST:PORT",
    default=None,
    help="Server surel (bawaan: surel_server di pengaturan.toml; port bawaan 587, STARTTLS).",
)
@click.option(
    "--tanpa-tls",
    "no_tls",
    is_flag=True,
    help="Tanpa STARTTLS: hanya untuk server surel di komputer ini (localhost).",
)
@click.option(
    "--dari",
    "sender",
    metavar="ALAMAT",
    default=None,
    help="Alamat pengirim (bawaan: surel_pengirim di pengaturan.toml).",
)
@click.option("--ulang", "again", is_flag=True, help="Kirim lagi pesan yang sudah pernah terkirim.")
@verbose_option
def kirim(period, inputs, outputs, send_mail, smtp, no_tls, sender, again, verbose):
    """Kirim umpan balik dan pengingat bulan itu ke setiap unit kerja lewat surel.

    Satu pesan per unit: unit yang laporannya direkap menerima ringkasan (status, kesalahan yang
    harus diperbaiki beserta batas waktunya, peringkat) dengan berkas umpan baliknya sendiri
    terlampir; unit yang belum mengirim menerima pengingat. Alamat diambil dari kolom email di
    unit_kerja.csv (folder --inputs lebih dahulu, seperti 'rbpipe run').

    Tanpa --kirim, pesan hanya ditulis sebagai berkas .eml di <outputs>/<YYYY-MM>/surel/ untuk
    diperiksa. Dengan --kirim, pesan dikirim lewat SMTP dengan STARTTLS dan dicatat di riwayat;
    pesan yang sama tidak dikirim dua kali kecuali dengan --ulang. Nama pengguna dan sandi
    server diambil dari variabel lingkungan RBPIPE_SMTP_USER dan RBPIPE_SMTP_PASSWORD.

    Kode keluar: 0 selesai; 1 ada pesan yang gagal disiapkan atau dikirim (panggil lagi untuk
    mencoba ulang); 2 tidak dapat dijalankan.

    Contoh: rbpipe kirim --period 2025-10 --kirim --smtp mail.lampungselatankab.go.id:587
    """
    from pipeline.deliver.mail import deliver_month, summary_lines

    report = deliver_month(
        period,
        inputs=inputs,
        outputs=outputs,
        send_mail=send_mail,
        smtp=smtp,
        tls=not no_tls,
        sender=sender,
        again=again,
    )
    for note in report.registry_notes:
        click.echo(f"Peringatan: {note}", err=True)
    for line in summary_lines(report, send_mail=send_mail):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@cli.command(cls=Guarded, context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Cetak daftar aturan sebagai JSON.")
@verbose_option
def rules(as_json, verbose):
    """Daftar semua aturan pemeriksaan: kode, tingkat, judul dan cara memperbaiki."""
    import json

    from pipeline.problems import SEVERITY_LABEL, load_catalogue

    catalogue = load_catalogue()
    if as_json:
        items = [
            {
                "kode": r.code,
                "tingkat": r.severity,
                "judul": r.title,
                "deskripsi": r.description,
                "saran": r.hint,
            }
            for r in catalogue.values()
        ]
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(catalogue)} aturan pemeriksaan:\n")
    for r in catalogue.values():
        click.echo(f"{r.code}  [{SEVERITY_LABEL[r.severity]}]  {r.title}")
        if r.description:
            click.echo(f"    {r.description}")
        if r.hint:
            click.echo(f"    Perbaikan: {r.hint}")


data_option = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder data portal: inputs/, outputs/ dan portal.sqlite.",
)


@cli.command(cls=Guarded, context_settings=CONTEXT)
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Alamat yang didengar.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--periode",
    "periode",
    metavar="YYYY-MM",
    callback=_period,
    default=None,
    help="Bulan yang sedang dilaporkan. Bawaan: bulan kalender sebelumnya.",
)
@click.option(
    "--https-di-depan",
    "https",
    is_flag=True,
    help="Portal berada di belakang proxy TLS (Caddy/nginx): kuki diberi tanda Secure.",
)
@click.option(
    "--setelan",
    "overrides",
    multiple=True,
    hidden=True,
    metavar="NAMA=NILAI",
    help="Ubah satu setelan portal (PortalSettings), mis. body_idle_seconds=5 (uji, penyetelan).",
)
@verbose_option
def serve(data, host, port, periode, https, overrides, verbose):
    """Jalankan portal web: unit mengunggah dan langsung diperiksa; Bagian Organisasi memantau
    papan dan menjalankan rekap.

    Bawaan hanya dapat dibuka dari komputer ini (127.0.0.1). Untuk jaringan kantor gunakan
    --host 0.0.0.0 di belakang proxy TLS (lihat README).

    Contoh: rbpipe serve --data . --port 8000
    """
    from pipeline.portal.app import PortalSettings
    from pipeline.portal.app import serve as run_server

    settings = PortalSettings(periode=str(periode) if periode else None, https=https)
    try:
        settings = settings.with_overrides(overrides)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--setelan") from None
    run_server(data, host, port, settings)


@cli.group(context_settings=CONTEXT, options_metavar="[OPSI]", subcommand_metavar="PERINTAH")
def akun():
    """Kelola akun portal (unit, analis, pimpinan)."""


def out_file_option(help_text: str):
    """``--out FILE`` (required) of a command that writes one file."""
    return click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


def _portal_db(data: Path):
    from pipeline.portal.db import Database
    from pipeline.portal.paths import DataDir

    return Database(DataDir(Path(data)).db)


@akun.command("tambah", cls=Guarded, context_settings=CONTEXT)
@click.argument("nama")
@click.option(
    "--peran", required=True, type=click.Choice(["unit", "analis", "pimpinan"]), help="Peran."
)
@click.option("--unit", "unit", metavar="KODE", default=None, help="Kode unit (peran unit).")
@data_option
@verbose_option
def akun_tambah(nama, peran, unit, data, verbose):
    """Tambah akun. Kata sandi dibaca dari masukan standar bila bukan terminal (satu baris);
    bila tidak, dibuat acak, dicetak sekali dan harus diganti saat masuk pertama.

    Contoh: rbpipe akun tambah dinkes --peran unit --unit DINKES
    """
    from pipeline.portal.auth import create_account
    from pipeline.registry import load_registry

    password = None
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n") or None
    db = _portal_db(data)
    generated = create_account(
        db,
        nama,
        peran,
        unit=unit,
        password=password,
        known_units=load_registry(Path(data) / "inputs").codes,
    )
    click.echo(f"Akun {nama} ({peran}{' ' + unit if unit and peran == 'unit' else ''}) dibuat.")
    if generated:
        click.echo(f"Kata sandi sementara (hanya ditampilkan sekali): {generated}")


@akun.command("buat-semua", cls=Guarded, context_settings=CONTEXT)
@data_option
@out_file_option("Berkas CSV berisi nama akun dan kata sandi sementara untuk dibagikan.")
@verbose_option
def akun_buat_semua(data, out, verbose):
    """Buat satu akun unit untuk setiap unit kerja yang belum punya, dengan kata sandi
    sementara, dan tulis daftarnya ke CSV.

    Contoh: rbpipe akun buat-semua --data . --out akun.csv
    """
    import csv
    import io

    from pipeline.fsutil import write_text_atomic
    from pipeline.portal.auth import create_account
    from pipeline.registry import load_registry

    registry = load_registry(Path(data) / "inputs")
    db = _portal_db(data)
    have = {r["unit"] for r in db.all("SELECT unit FROM akun WHERE peran = 'unit' AND aktif = 1")}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["nama", "kode_unit", "nama_unit", "sandi_sementara"])
    made = 0
    for unit in registry.units:
        if unit.kode in have:
            continue
        nama = unit.kode.lower()
        password = create_account(
            db, nama, "unit", unit=unit.kode, password=None, known_units=registry.codes
        )
        writer.writerow([nama, unit.kode, unit.nama, password])
        made += 1
    write_text_atomic(out, buffer.getvalue())
    out.chmod(0o600)
    click.echo(f"{made} akun unit dibuat; daftar kata sandi sementara di {out} (simpan rahasia).")


@akun.command("daftar", cls=Guarded, context_settings=CONTEXT)
@data_option
@verbose_option
def akun_daftar(data, verbose):
    """Tampilkan semua akun."""
    from pipeline.portal.auth import list_accounts

    rows = list_accounts(_portal_db(data))
    for r in rows:
        state = "aktif" if r["aktif"] else "nonaktif"
        temp = ", sandi sementara" if r["sandi_sementara"] else ""
        click.echo(f"{r['nama']:<24} {r['peran']:<9} {r['unit'] or '-':<20} {state}{temp}")
    click.echo(f"{len(rows)} akun.")


@akun.command("sandi-baru", cls=Guarded, context_settings=CONTEXT)
@click.argument("nama")
@data_option
@verbose_option
def akun_sandi_baru(nama, data, verbose):
    """Buat kata sandi sementara baru untuk akun NAMA (sesinya yang terbuka berakhir)."""
    from pipeline.portal.auth import reset_password

    password = reset_password(_portal_db(data), nama)
    click.echo(f"Kata sandi sementara baru untuk {nama} (hanya ditampilkan sekali): {password}")


@akun.command("nonaktif", cls=Guarded, context_settings=CONTEXT)
@click.argument("nama")
@data_option
@verbose_option
def akun_nonaktif(nama, data, verbose):
    """Nonaktifkan akun NAMA; sesinya yang terbuka berakhir."""
    from pipeline.portal.auth import deactivate

    deactivate(_portal_db(data), nama)
    click.echo(f"Akun {nama} dinonaktifkan.")


@cli.command(cls=Guarded, context_settings=CONTEXT)
@data_option
@out_file_option("Berkas cadangan yang ditulis (.tar.gz).")
@verbose_option
def cadangkan(data, out, verbose):
    """Buat satu berkas cadangan folder data portal (portal.sqlite, inputs/, outputs/,
    karantina/), aman walau portal sedang berjalan.

    Contoh: rbpipe cadangkan --data /srv/rbpipe --out /cadangan/rbpipe-2025-11-05.tar.gz
    """
    from pipeline.locale_id import number
    from pipeline.portal.backup import backup

    summary = backup(data, out, on_wait=lambda line: click.echo(line, err=True))
    months = ", ".join(summary.months) or "-"
    click.echo(
        f"Cadangan ditulis: {out} ({number(summary.files)} berkas, "
        f"{number(summary.bytes / (1 << 20), 1)} MiB; {number(summary.uploads)} catatan "
        f"kiriman portal; bulan: {months})."
    )
    if summary.skipped:
        click.echo(
            f"{number(len(summary.skipped))} tautan simbolik tidak ikut dicadangkan: "
            + ", ".join(summary.skipped[:5]),
            err=True,
        )


@cli.command(cls=Guarded, context_settings=CONTEXT)
@click.argument("berkas", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder data tujuan: harus kosong atau belum ada.",
)
@verbose_option
def pulihkan(berkas, data, verbose):
    """Pulihkan berkas cadangan BERKAS (dari rbpipe cadangkan) ke folder data yang kosong.

    Contoh: rbpipe pulihkan /cadangan/rbpipe-2025-11-05.tar.gz --data /srv/rbpipe-baru
    """
    from pipeline.locale_id import number
    from pipeline.portal.backup import restore

    summary = restore(berkas, data)
    click.echo(
        f"Cadangan {berkas} (dibuat {summary.created}) dipulihkan ke {data}: "
        f"{number(summary.files)} berkas, {number(summary.bytes / (1 << 20), 1)} MiB, "
        f"{number(summary.uploads)} catatan kiriman portal. Jalankan: rbpipe serve --data {data}"
    )


def main() -> None:
    """The console script: run the command, then leave at once (see :func:`exit_now`)."""
    exit_now(run_cli())


def run_cli() -> int:
    """Run the command line in ``sys.argv`` and return its exit code."""
    try:
        cli(prog_name="rbpipe")
    except SystemExit as exc:
        return _exit_code(exc.code)
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: int) -> None:
    """Leave without tearing the interpreter down.

    Every output is already written, renamed into place and committed when a command returns;
    what is left is freeing the hundreds of thousands of objects Great Expectations and pandas
    created, which takes over a second on a small machine. Flush what the user should see and
    the log, then exit.
    """
    import logging

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
