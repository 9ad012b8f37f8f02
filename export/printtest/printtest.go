// Package printtest reads exports as a person's tools do: LibreOffice
// prints an XLSX to PDF, poppler counts a PDF's pages and extracts its text.
// scripts/test.sh installs both when missing; without them the tests that
// use this package fail with a message saying how to install them, they
// never skip.
package printtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// RequireTool returns the path of a command the print tests need.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/test.sh, which installs it, or "+
			"apt-get install -y --no-install-recommends libreoffice-calc poppler-utils", name)
	}
	return p
}

// XLSXToPDF converts an XLSX to PDF with LibreOffice headless, as printing
// it would, and returns the PDF.
func XLSXToPDF(t testing.TB, xlsx []byte) []byte {
	t.Helper()
	soffice := RequireTool(t, "soffice")
	dir := t.TempDir()
	in := filepath.Join(dir, "copia.xlsx")
	if err := os.WriteFile(in, xlsx, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A profile of its own: a LibreOffice already running for the user (or
	// another test) would otherwise take the job and exit at once.
	cmd := exec.CommandContext(ctx, soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--headless", "--convert-to", "pdf", "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to pdf: %v\n%s", err, out)
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "copia.pdf"))
	if err != nil {
		t.Fatalf("LibreOffice wrote no PDF: %v", err)
	}
	return pdf
}

var pagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`)

// Pages counts a PDF's pages with pdfinfo.
func Pages(t testing.TB, pdf []byte) int {
	t.Helper()
	out := runPoppler(t, "pdfinfo", pdf)
	m := pagesLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo printed no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// Text extracts a PDF's text with pdftotext, keeping the layout (a
// label and its value stay on one line).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	return string(runPoppler(t, "pdftotext", pdf, "-layout", "-enc", "UTF-8"))
}

func runPoppler(t testing.TB, tool string, pdf []byte, flags ...string) []byte {
	t.Helper()
	bin := RequireTool(t, tool)
	in := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(flags, in)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, stderr.Bytes())
	}
	return stdout.Bytes()
}
