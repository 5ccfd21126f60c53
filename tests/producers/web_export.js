// Writes workbooks the way web applications export them, with the two libraries they use most:
// SheetJS ("xlsx") builds sheets from arrays of rows, ExcelJS adds rows and pictures.
// Input: a JSON file {sheets: [{name, rows, state}], photo: base64 PNG}; output folder.
// Called by build.py; never needed by `make test`.
const fs = require("fs");
const path = require("path");
const XLSX = require("xlsx");
const ExcelJS = require("exceljs");

async function main() {
  const [input, outDir] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(input, "utf8"));

  // SheetJS, as a web app's "Export to Excel" button: aoa_to_sheet per sheet.
  const book = XLSX.utils.book_new();
  for (const sheet of spec.sheets) {
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(sheet.rows), sheet.name);
  }
  book.Workbook = { Sheets: spec.sheets.map((s) => ({ Hidden: s.state === "hidden" ? 1 : 0 })) };
  XLSX.writeFile(book, path.join(outDir, "sheetjs.xlsx"), { compression: true });

  // ExcelJS: addRow per row; a second file with photos of evidence pasted over the sheet.
  for (const withPhotos of [false, true]) {
    const wb = new ExcelJS.Workbook();
    wb.creator = "Aplikasi e-RB";
    for (const sheet of spec.sheets) {
      const ws = wb.addWorksheet(sheet.name, { state: sheet.state || "visible" });
      for (const row of sheet.rows) ws.addRow(row);
      if (withPhotos && sheet.name.startsWith("RB ")) {
        const image = wb.addImage({ base64: spec.photo, extension: "png" });
        ws.addImage(image, { tl: { col: 22, row: 4 }, ext: { width: 160, height: 120 } });
        ws.addImage(image, "X9:Z14");
      }
    }
    const name = withPhotos ? "exceljs_foto.xlsx" : "exceljs.xlsx";
    await wb.xlsx.writeFile(path.join(outDir, name));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
