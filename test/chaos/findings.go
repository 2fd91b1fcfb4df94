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
	"fmt"
	"io"
	"sync"
)

// examplesPerCheck bounds the occurrences printed per failed check.
const examplesPerCheck = 8

// findings collects failed checks, each with what was seen, in the order they first failed.
type findings struct {
	mu    sync.Mutex
	order []string
	seen  map[string][]string
}

// add records one occurrence of a failed check.
func (f *findings) add(check, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string][]string{}
	}
	if _, ok := f.seen[check]; !ok {
		f.order = append(f.order, check)
	}
	f.seen[check] = append(f.seen[check], fmt.Sprintf(format, args...))
}

// count is the number of failed checks (not occurrences).
func (f *findings) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.order)
}

// countSince is the number of checks that first failed after the first n.
func (f *findings) countSince(n int) int { return f.count() - n }

func (f *findings) print(w io.Writer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, check := range f.order {
		items := f.seen[check]
		_, _ = fmt.Fprintf(w, "FAIL %s (%d)\n", check, len(items))
		for i, it := range items {
			if i == examplesPerCheck {
				_, _ = fmt.Fprintf(w, "    ... and %d more\n", len(items)-examplesPerCheck)
				break
			}
			_, _ = fmt.Fprintf(w, "    %s\n", it)
		}
	}
}
