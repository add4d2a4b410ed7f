package main

// allowance is a difference between the scanners that is understood and
// written down in docs/scanning.md ("Compared with osv-scanner"): a finding
// one of them reports and the other does not, by design.
type allowance struct {
	side      string // the scanner that reports it: "berth" or "osv-scanner"
	ecosystem string // without the release
	pkg       string
	id        string
	why       string
}

// allowed lists every explained difference; each names one finding, so
// that a new difference, even of the same kind, fails the comparison until
// it is understood.
var allowed = []allowance{
	// npm's bundled ip 2.0.0 under the global npm CLI: Berth reads every
	// package.json; osv-scanner's image scan reads node_modules trees only
	// through npm's hidden lockfile (node_modules/.package-lock.json),
	// which a package's bundled dependencies do not have.
	{side: "berth", ecosystem: "npm", pkg: "ip", id: "GHSA-78xj-cgh5-2h22",
		why: "a bundled dependency no lockfile lists: osv-scanner reads node_modules only through .package-lock.json"},
}

// explain returns why side may report f alone, or "".
func explain(side string, f finding) string {
	for _, a := range allowed {
		if a.side == side && a.ecosystem == f.ecosystem && a.pkg == f.pkg && a.id == f.id {
			return a.why
		}
	}
	return ""
}
