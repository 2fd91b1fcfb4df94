/*
Copyright 2026 The securitybaseline-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s/%s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH)
}

func writeReport(path string, r Report) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail(err)
	}
	raw, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		fail(err)
	}
}

func printTable(r Report) {
	fmt.Printf("\nmachine: %s, %s\n\n", r.Machine, r.GoVersion)
	fmt.Println("| N | objects/ns | raw (QPS/burst/workers) | operator converge | ratio | raw unlimited | operator unlimited | ratio | drift p50 / p90 / p99 / max | writes at rest | peak RSS | with unrelated: converge / peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, x := range r.Results {
		fmt.Printf("| %d | %d | %.1f s (%d/%d/%d) | %.1f s | %.2f× | %.1f s | %.1f s | %.2f× | %.0f / %.0f / %.0f / %.0f ms | %d in %.0f s | %.0f MiB | %.1f s / %.0f MiB (%d objects) |\n",
			x.N, x.ObjectsPerNamespace, x.RawSeconds, x.QPS, x.Burst, x.Workers, x.ConvergeSeconds, x.ConvergeRatio,
			x.RawUnlimitedSeconds, x.ConvergeUnlimitedSeconds, x.ConvergeUnlimitedRatio,
			x.DriftP50Ms, x.DriftP90Ms, x.DriftP99Ms, x.DriftMaxMs, x.WritesAtRest, x.IdleSeconds, x.PeakRSSMiB,
			x.ConvergeWithUnrelatedSeconds, x.PeakRSSWithUnrelatedMiB, x.UnrelatedObjects)
	}
}
