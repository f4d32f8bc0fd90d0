package dashboard

import (
	"html/template"
	"math"
	"strings"

	"asdsl-bench/harness/report"
)

var funcs = template.FuncMap{
	"short": report.ShortCommit,
	"gib":   func(b int64) string { return report.Rate(float64(b) / (1 << 30)) },
	"num": func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return report.Rate(v)
	},
	"join": strings.Join,
	"outcomeClass": func(s string) string {
		switch s {
		case "pass":
			return "ok"
		case "inconclusive":
			return "warn"
		}
		return "bad"
	},
}

const layout = `{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#18794e}.bad{color:#c62828;font-weight:bold}.warn{color:#b26a00}
nav a{margin-right:14px}svg.chart{display:block;margin:8px 0 16px}code{background:#f3f3f3;padding:0 3px}
</style></head><body><nav><a href="{{.L.Index}}">runs and machines</a><a href="{{.L.Failures}}">gate failures</a></nav>
<h1>{{.Title}}</h1>{{end}}
{{define "foot"}}</body></html>{{end}}

{{define "index"}}{{template "head" .}}
<p>Results database: <code>{{.Store}}</code>. {{len .Runs}} runs; <a href="{{.L.Failures}}">{{.Failures}} failed gates</a>.</p>
<h2>Machines</h2>
<table><tr><th>machine</th><th>CPU</th><th>kernels</th><th>topology</th><th>memory GiB</th><th>runs</th><th>models (history)</th></tr>
{{range .Machines}}<tr><td><code>{{.ID}}</code></td><td>{{.CPU}}</td><td>{{.ISA}}</td><td>{{.Topology}}</td><td class="num">{{gib .MemoryBytes}}</td><td class="num">{{.Runs}}</td>
<td>{{range $m, $l := .Links}}<a class="model" href="{{$l}}">{{$m}}</a> {{end}}</td></tr>
{{end}}</table>
<h2>Runs</h2>
<table id="runs"><tr><th>time (UTC)</th><th>commit</th><th>machine</th><th>suite</th><th>verdict</th><th></th></tr>
{{range .Runs}}<tr><td>{{.Time.Format "2006-01-02 15:04"}}</td><td><a href="{{.Link}}"><code>{{short .Commit}}</code></a>{{if .Dirty}} (dirty){{end}}</td>
<td><code>{{.Machine}}</code></td><td>{{.Suite}}</td><td class="{{outcomeClass .Outcome}}">{{.Outcome}}</td>
<td>{{if .CompareLink}}<a class="cmp" href="{{.CompareLink}}">compare with the previous run</a>{{end}}</td></tr>
{{end}}</table>
{{template "foot" .}}{{end}}

{{define "machine"}}{{template "head" .}}
<p>Each point is one run's median; dashed lines are the gate targets. Runs along the axis are oldest first.</p>
{{range .Groups}}<h2>{{.Title}}</h2>{{range .Charts}}{{.}}{{end}}{{end}}
<h2>Runs in these charts</h2><table><tr><th>#</th><th>run</th><th></th></tr>
{{range $i, $r := .Runs}}<tr><td class="num">{{$i}}</td><td><a href="{{$r.Link}}"><code>{{$r.ID}}</code></a></td><td>{{if $r.CompareLink}}<a href="{{$r.CompareLink}}">compare with #{{$i}}'s predecessor</a>{{end}}</td></tr>{{end}}</table>
{{template "foot" .}}{{end}}

{{define "run"}}{{template "head" .}}
<p>Run <code>{{.Run.ID}}</code> on <code>{{.Run.Machine.CPU}}</code>, commit <code>{{.Run.Commit}}</code>.</p>
{{.Chart}}
<div class="report">{{.Report}}</div>
{{template "foot" .}}{{end}}

{{define "compare"}}{{template "head" .}}
<p>Old: <a href="{{.L.Run .A.ID}}"><code>{{.A.ID}}</code></a> (commit <code>{{short .A.Commit}}</code>); new: <a href="{{.L.Run .B.ID}}"><code>{{.B.ID}}</code></a> (commit <code>{{short .B.Commit}}</code>).
Medians with 95% intervals, Mann-Whitney U p; a change is significant at p &lt; {{.Alpha}}. Runs from different days or hosts differ by the host's drift too.</p>
<table id="deltas"><tr><th>bench</th><th>metric</th><th>old</th><th>new</th><th>change</th><th>p</th><th>significant</th><th>worse by</th></tr>
{{range .Rows}}<tr><td>{{.Key}}</td><td>{{.Metric}}</td><td class="num">{{num .Old}} {{.OldCI}}</td><td class="num">{{num .New}} {{.NewCI}}</td>
<td class="num change">{{.Change}}</td><td class="num">{{printf "%.3f" .P}}</td><td>{{if .Significant}}yes{{else}}no{{end}}</td><td class="num">{{printf "%.1f%%" (mul100 .Worse)}}</td></tr>
{{else}}<tr><td colspan="8">no bench in common</td></tr>{{end}}</table>
{{template "foot" .}}{{end}}

{{define "failures"}}{{template "head" .}}
<table id="failures"><tr><th>time (UTC)</th><th>run</th><th>machine</th><th>phase</th><th>gate</th><th>value</th><th>target</th></tr>
{{range .Failures}}<tr><td>{{.Time.Format "2006-01-02 15:04"}}</td><td><a href="{{$.L.Run .RunID}}"><code>{{short .Commit}}</code></a></td><td><code>{{.Machine}}</code></td>
<td>{{.Phase}}</td><td>{{.Gate}}</td><td class="num bad">{{if .Value.Valid}}{{num .Value.Float64}}{{else}}-{{end}}</td><td class="num">{{.Op}} {{num .Target}}</td></tr>
{{else}}<tr><td colspan="7">no failed gates</td></tr>{{end}}</table>
{{template "foot" .}}{{end}}
`

var pages = template.Must(template.New("pages").Funcs(funcs).Funcs(template.FuncMap{"mul100": func(v float64) float64 { return 100 * v }}).Parse(layout))
