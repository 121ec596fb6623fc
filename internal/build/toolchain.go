package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Check is what Toolchains found out about one program a build command runs.
type Check struct {
	Component string
	Command   string
	// Program is the program as the command names it, after expanding
	// ${VAR:-default} ("rustc", "clang-19", "go").
	Program string
	// Path is where Program was found ("" when it was not).
	Path string
	// Target is the WebAssembly target the command builds for, when it
	// names one (--target wasm32-wasi); Toolchains checks that Program can
	// actually build for it.
	Target string
	// Problem says what is wrong ("" when the toolchain is fine); Fix how to
	// put it right.
	Problem string
	Fix     string
}

// OK reports whether the toolchain is usable.
func (c Check) OK() bool { return c.Problem == "" }

// probeTimeout bounds one trial compilation.
const probeTimeout = 60 * time.Second

// Toolchains checks, for every build command of m's components, that the
// programs it runs are installed, and that compilers given a wasm --target
// (rustc, clang) can really build for it: a compiler is often installed
// without the target's standard library. The environment is the current
// process's, as `wisp build` would see it.
func Toolchains(ctx context.Context, m *manifest.Manifest) []Check {
	return toolchains(ctx, m, newProber())
}

func toolchains(ctx context.Context, m *manifest.Manifest, p *prober) []Check {
	var checks []Check
	for _, id := range componentIDs(m) {
		c := m.Components[id]
		if c.Build == nil {
			continue
		}
		dir, _ := Workdir(m, c)
		for _, command := range c.Build.Commands {
			for _, inv := range invocations(command, os.Getenv) {
				check := Check{Component: id, Command: command, Program: inv.program, Target: inv.target}
				p.check(ctx, &check, dir, strings.Contains(command, "RUSTC"), strings.Contains(command, "WASI_CC"))
				checks = append(checks, check)
			}
		}
	}
	return checks
}

// invocation is one program run by a shell command, with the wasm target it
// is asked to build for.
type invocation struct {
	program string
	target  string
}

// shellBuiltins need no check.
var shellBuiltins = []string{"cd", "export", "set", "unset", "echo", "printf", "test", "[", "true", "false", ":", "exit", "exec", "env", "."}

// invocations finds the programs a build command runs. It understands the
// plain shell that build commands use (cmd1 && cmd2; VAR=x cmd; ${VAR:-y}),
// not the whole shell language: it is a diagnostic aid, the build itself
// runs the command with sh.
func invocations(command string, getenv func(string) string) []invocation {
	expanded := os.Expand(command, func(name string) string {
		if v, def, ok := strings.Cut(name, ":-"); ok {
			return cmpOr(getenv(v), def)
		}
		return getenv(name)
	})
	var out []invocation
	for _, seg := range strings.Split(commandSeparators.Replace(expanded), "\n") {
		words := strings.Fields(seg)
		for len(words) > 0 && isAssignment(words[0]) {
			words = words[1:]
		}
		if len(words) == 0 || slices.Contains(shellBuiltins, words[0]) {
			continue
		}
		inv := invocation{program: strings.Trim(words[0], `"'`)}
		for i, w := range words[1:] {
			if t, ok := strings.CutPrefix(w, "--target="); ok {
				inv.target = t
			} else if w == "--target" && i+2 < len(words) {
				inv.target = words[i+2]
			}
		}
		if !strings.HasPrefix(inv.target, "wasm") {
			inv.target = ""
		}
		out = append(out, inv)
	}
	return out
}

// commandSeparators turns the ways commands are chained into newlines
// ("2>&1" is not a separator).
var commandSeparators = strings.NewReplacer("&&", "\n", "||", "\n", ";", "\n", "|", "\n")

func isAssignment(word string) bool {
	name, _, ok := strings.Cut(word, "=")
	return ok && name != "" && !strings.ContainsAny(name, "-/.$")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// prober runs trial compilations, each program and target once.
type prober struct {
	results map[string]error
	// rustcCandidates lists other rustc binaries worth suggesting; a
	// variable so tests can replace it.
	rustcCandidates func() []string
}

func newProber() *prober {
	return &prober{results: map[string]error{}, rustcCandidates: rustcCandidates}
}

func (p *prober) check(ctx context.Context, c *Check, dir string, usesRUSTC, usesWASICC bool) {
	path, err := lookPath(c.Program, dir)
	if err != nil {
		c.Problem = fmt.Sprintf("%s is not installed (not found in PATH)", c.Program)
		if strings.Contains(c.Program, "/") {
			c.Problem = fmt.Sprintf("%s does not exist or is not executable (relative to %s)", c.Program, dir)
		}
		c.Fix = installHint(c.Program, usesRUSTC, usesWASICC)
		return
	}
	c.Path = path
	kind := compilerKind(c.Program)
	if c.Target == "" || kind == "" {
		return
	}
	err = p.probe(ctx, kind, path, c.Target)
	if err == nil {
		return
	}
	c.Problem = fmt.Sprintf("%s (%s) cannot build for %s: %v", c.Program, path, c.Target, err)
	switch kind {
	case "rustc":
		c.Fix = p.rustcFix(ctx, path, c.Target, usesRUSTC)
	case "clang":
		c.Fix = "install wasi-libc and the wasm32 compiler runtime (Debian: apt-get install wasi-libc lld-19 libclang-rt-19-dev-wasm32), or use wasi-sdk's clang"
		if usesWASICC {
			c.Fix += " via WASI_CC=/path/to/wasi-sdk/bin/clang"
		}
	}
}

// rustcFix looks for another rustc that can build for target, since the
// usual trap is a rustup rustc first in PATH without the wasm target while
// Debian's /usr/bin/rustc has it.
func (p *prober) rustcFix(ctx context.Context, failed, target string, usesRUSTC bool) string {
	for _, cand := range p.rustcCandidates() {
		if sameFile(cand, failed) {
			continue
		}
		if p.probe(ctx, "rustc", cand, target) == nil {
			if usesRUSTC {
				return fmt.Sprintf("%s can build for %s: export RUSTC=%s", cand, target, cand)
			}
			return fmt.Sprintf("%s can build for %s: use it in the build command", cand, target)
		}
	}
	fix := fmt.Sprintf("rustup target add %s", target)
	if target == "wasm32-wasi" {
		fix = "rustup target add wasm32-wasip1 and use --target wasm32-wasip1 (Rust 1.84+ has no wasm32-wasi)"
	}
	return fix + "; or on Debian: apt-get install rustc libstd-rust-dev-wasm32 and use /usr/bin/rustc"
}

// rustcCandidates are the rustc binaries on PATH plus the usual places.
func rustcCandidates() []string {
	var out []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		out = append(out, filepath.Join(dir, "rustc"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, ".cargo", "bin", "rustc"))
	}
	out = append(out, "/usr/bin/rustc", "/usr/local/bin/rustc")
	var found []string
	for _, p := range out {
		if isExecutable(p) && !slices.ContainsFunc(found, func(f string) bool { return sameFile(f, p) }) {
			found = append(found, p)
		}
	}
	return found
}

// FindRustc returns a rustc that can build for target: $RUSTC, the rustc on
// PATH, or another known one. Tests of Rust guests use it.
func FindRustc(ctx context.Context, target string) (string, error) {
	p := newProber()
	cands := p.rustcCandidates()
	if r := os.Getenv("RUSTC"); r != "" {
		if path, err := exec.LookPath(r); err == nil {
			cands = append([]string{path}, cands...)
		}
	}
	var firstErr error
	for _, cand := range cands {
		err := p.probe(ctx, "rustc", cand, target)
		if err == nil {
			return cand, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", cand, err)
		}
	}
	if firstErr == nil {
		return "", fmt.Errorf("no rustc found")
	}
	return "", fmt.Errorf("no rustc can build for %s (%w)", target, firstErr)
}

// ProbeClang reports whether the C compiler cc can build a program for target.
func ProbeClang(ctx context.Context, cc, target string) error {
	path, err := exec.LookPath(cc)
	if err != nil {
		return err
	}
	return newProber().probe(ctx, "clang", path, target)
}

// probe compiles and links an empty program with compiler for target: the
// only reliable test, since a compiler lists targets whose standard library
// is not installed.
func (p *prober) probe(ctx context.Context, kind, compiler, target string) error {
	key := kind + "\x00" + compiler + "\x00" + target
	if err, ok := p.results[key]; ok {
		return err
	}
	err := runProbe(ctx, kind, compiler, target)
	p.results[key] = err
	return err
}

func runProbe(ctx context.Context, kind, compiler, target string) error {
	dir, err := os.MkdirTemp("", "wisp-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var src string
	var args []string
	out := filepath.Join(dir, "probe.wasm")
	switch kind {
	case "rustc":
		src = filepath.Join(dir, "probe.rs")
		args = []string{"--target", target, "-o", out, src}
		err = os.WriteFile(src, []byte("fn main() {}\n"), 0o644)
	default:
		src = filepath.Join(dir, "probe.c")
		args = []string{"--target=" + target, "-o", out, src}
		err = os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, compiler, args...)
	cmd.Dir = dir
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s", firstLine(string(output), err))
	}
	return nil
}

// firstLine is the first line of a compiler's output that says "error", or
// the first line at all: enough to recognise the problem.
func firstLine(output string, err error) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	for _, l := range lines {
		if strings.Contains(l, "error") {
			return strings.TrimSpace(l)
		}
	}
	if lines[0] != "" {
		return strings.TrimSpace(lines[0])
	}
	return err.Error()
}

// compilerKind says how to probe program: "rustc", "clang", or "" for a
// program that is only checked for presence.
func compilerKind(program string) string {
	base := filepath.Base(program)
	switch {
	case strings.Contains(base, "rustc"):
		return "rustc"
	case strings.HasPrefix(base, "clang"):
		return "clang"
	}
	return ""
}

// lookPath finds program in PATH, or relative to dir when it has a slash.
func lookPath(program, dir string) (string, error) {
	if strings.Contains(program, "/") && !filepath.IsAbs(program) {
		program = filepath.Join(dir, program)
	}
	return exec.LookPath(program)
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

func sameFile(a, b string) bool {
	ia, err1 := os.Stat(a)
	ib, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}

// installHint tells how to install a missing program.
func installHint(program string, usesRUSTC, usesWASICC bool) string {
	base := filepath.Base(program)
	switch {
	case base == "go":
		return "install Go 1.21 or later from https://go.dev/dl/"
	case base == "tinygo":
		return "install TinyGo from https://tinygo.org/getting-started/install/"
	case strings.Contains(base, "rustc"):
		hint := "install Rust with the wasm target: rustup target add wasm32-wasip1, or on Debian apt-get install rustc libstd-rust-dev-wasm32"
		if usesRUSTC {
			hint += " (set RUSTC to pick a specific rustc)"
		}
		return hint
	case base == "cargo":
		return "install Rust from https://rustup.rs/"
	case strings.HasPrefix(base, "clang"):
		hint := fmt.Sprintf("install %s with wasi-libc (Debian: apt-get install clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32)", base)
		if usesWASICC {
			hint += ", or set WASI_CC to another clang (e.g. wasi-sdk's)"
		}
		return hint
	case base == "npm" || base == "node" || base == "npx":
		return "install Node.js from https://nodejs.org/"
	}
	return fmt.Sprintf("install %s or change the build command", base)
}
