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

package install

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// nonRoot is distroless' nonroot user, the image's USER.
const nonRoot = 65532

// dockerfileBuild returns the environment and arguments of the Dockerfile's `go build` RUN
// line, with the build args expanded as a docker build for this machine's architecture would.
func dockerfileBuild(dockerfile string) (env, args []string) {
	GinkgoHelper()
	var line string
	for l := range strings.SplitSeq(dockerfile, "\n") {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, " go build ") {
			Expect(line).To(BeEmpty(), "one go build in the Dockerfile")
			line = strings.TrimPrefix(l, "RUN ")
		}
	}
	Expect(line).NotTo(BeEmpty(), "the Dockerfile builds the manager with go build")
	buildArgs := map[string]string{"TARGETOS": "", "TARGETARCH": runtime.GOARCH, "VERSION": "0.0.0-test"}
	expand := func(s string) string {
		return os.Expand(s, func(v string) string {
			name, def, hasDefault := strings.Cut(v, ":-")
			if val := buildArgs[name]; val != "" || !hasDefault {
				return val
			}
			return def
		})
	}
	words := shellWords(line)
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
		env = append(env, expand(words[0]))
		words = words[1:]
	}
	Expect(words[:2]).To(Equal([]string{"go", "build"}))
	for _, w := range words[2:] {
		args = append(args, expand(w))
	}
	return env, args
}

// shellWords splits a command line as sh would for plain words and single or double quotes.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

var _ = Describe("the image", func() {
	It("builds a static, stripped binary the way the Dockerfile does, which runs as the non-root user in a read-only directory", func() {
		raw, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
		Expect(err).NotTo(HaveOccurred())
		dockerfile := string(raw)
		Expect(dockerfile).To(MatchRegexp(`(?m)^FROM golang:1\.26\.\d+\S* AS builder$`), "a pinned Go image")
		Expect(dockerfile).To(MatchRegexp(`(?m)^FROM gcr\.io/distroless/static:nonroot`))
		Expect(dockerfile).To(MatchRegexp(`(?m)^USER 65532:65532$`))
		Expect(dockerfile).To(ContainSubstring("org.opencontainers.image.source"))
		env, args := dockerfileBuild(dockerfile)
		Expect(env).To(ContainElement("CGO_ENABLED=0"))
		Expect(args).To(ContainElement("-trimpath"))
		Expect(strings.Join(args, " ")).To(MatchRegexp(`-ldflags=?\S*-s -w`))

		dir, err := os.MkdirTemp("", "sbo-image-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			_ = os.Chmod(dir, 0o755)
			_ = os.RemoveAll(dir)
		})
		// -o names the output in the image's WORKDIR; build into the temp directory instead.
		for i, a := range args {
			if a == "-o" {
				args[i+1] = filepath.Join(dir, "manager")
			}
		}
		build := exec.Command("go", append([]string{"build"}, args...)...)
		build.Dir = repo
		build.Env = append(os.Environ(), env...)
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build %s: %s", strings.Join(args, " "), out)
		bin := filepath.Join(dir, "manager")

		f, err := elf.Open(bin)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = f.Close() }()
		Expect(f.Section(".interp")).To(BeNil(), "statically linked: no program interpreter")
		Expect(f.Section(".symtab")).To(BeNil(), "stripped (-s)")

		Expect(os.Chmod(bin, 0o555)).To(Succeed())
		Expect(os.Chmod(dir, 0o555)).To(Succeed())
		run := exec.Command(bin, "--help")
		run.Dir = dir
		run.Env = []string{} // no KUBECONFIG, no HOME: --help needs neither
		if os.Geteuid() == 0 {
			run.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonRoot, Gid: nonRoot}}
		}
		var stdout, stderr bytes.Buffer
		run.Stdout, run.Stderr = &stdout, &stderr
		Expect(run.Run()).To(Succeed(), "%s", stderr.String())
		usage := stdout.String() + stderr.String()
		for _, flag := range []string{"-leader-elect", "-metrics-bind-address", "-health-probe-bind-address", "-install-admission-policy"} {
			Expect(usage).To(ContainSubstring(flag))
		}
		GinkgoWriter.Printf("built with %v go build %s; --help as uid %d exits 0\n", env, strings.Join(args, " "), nonRoot)
	})

	It("copies into the build every package the manager is built from", func() {
		raw, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
		Expect(err).NotTo(HaveOccurred())
		copied := []string{}
		for _, m := range regexp.MustCompile(`(?m)^COPY (\S+) \S+$`).FindAllStringSubmatch(string(raw), -1) {
			copied = append(copied, strings.TrimSuffix(m[1], "/"))
		}
		list := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", ".")
		list.Dir = repo
		out, err := list.Output()
		Expect(err).NotTo(HaveOccurred(), stderrOf(err))
		root, err := filepath.Abs(repo)
		Expect(err).NotTo(HaveOccurred())
		for dir := range strings.FieldsSeq(string(out)) {
			rel, err := filepath.Rel(root, dir)
			Expect(err).NotTo(HaveOccurred())
			top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
			if top == "." {
				top = "main.go"
			}
			Expect(copied).To(ContainElement(top), "the Dockerfile copies %s (package %s)", top, rel)
		}
	})
})
