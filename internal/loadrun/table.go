package loadrun

import (
	"fmt"
	"strings"
)

// Markdown renders rows as the BENCHMARKS.md table.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| calls | all up | dialflow CPU (cores) | CPU/call (m-cores) | RSS | RSS/call | lateness p50 / p99 / max (ms) | frames lost | digits detected/sent | answer→prompt p50 / p99 (ms) | setups/s | errors | kernel drops | phone CPU |\n")
	b.WriteString("|---:|:-:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		p := r.Phone
		up := "yes"
		if !r.AllUp {
			up = fmt.Sprintf("no (%d)", r.Concurrent)
		}
		fmt.Fprintf(&b, "| %d | %s | %.2f | %.3f | %s | %s | %.2f / %.2f / %.2f | %d of %d | %d/%d | %.1f / %.1f | %.0f | %d | %d | %.2f |\n",
			r.Calls, up, r.Cores, r.CPUPerCall, mib(r.RSS), kib(r.RSSPerCall),
			p.Lateness.P50, p.Lateness.P99, p.Lateness.Max, p.FramesLost, p.Frames+p.FramesLost,
			r.Digits, p.DigitsSent, p.AnswerToPrompt.P50, p.AnswerToPrompt.P99, p.SetupRate, r.Errors, r.KernelDrops, r.PhoneCores)
	}
	return b.String()
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
func kib(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10)) }
