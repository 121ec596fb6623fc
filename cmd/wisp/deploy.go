package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/pkg/manifest"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

type deployOptions struct {
	from      string
	name      string
	variables []string
	hostnames []string
	build     bool
	reference string
}

func newDeployCmd() *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy the application to a wisp server",
		Long: `Resolve the application as wisp up does (same loader), pack it with every
component and file it uses into a bundle, upload it to the server you
logged in to (wisp login) as the app's next revision, and print its URL.
The server checks that the app loads before it switches to the new
revision; until then, and if anything fails, the previous one serves.`,
		Example: `  wisp deploy
  wisp deploy -f apps/demo --name demo --variable api_key=secret
  wisp deploy --hostname www.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeploy(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.from, "from", "f", "", "manifest file, app directory or .wasm file (default: ./spin.toml)")
	f.StringVar(&o.name, "name", "", "app name on the server (default: the manifest's application name)")
	f.StringArrayVar(&o.variables, "variable", nil, "application variable name=value, stored with the revision; repeatable")
	f.StringArrayVar(&o.hostnames, "hostname", nil, "custom domain routed to the app (replaces the app's list); repeatable")
	f.BoolVar(&o.build, "build", false, "run 'wisp build' first")
	f.StringVar(&o.reference, "from-registry", "", "have the server pull this OCI reference (pushed with 'wisp registry push') instead of uploading; needs --name")
	return cmd
}

func runDeploy(cmd *cobra.Command, o deployOptions) error {
	ctx := cmd.Context()
	client, _, err := platformClient()
	if err != nil {
		return err
	}
	vars, err := parseKeyValues("variable", o.variables)
	if err != nil {
		return err
	}
	var hosts []string
	if cmd.Flags().Changed("hostname") {
		hosts = o.hostnames
	}
	if o.reference != "" {
		if o.name == "" || o.from != "" || o.build {
			return usagef("--from-registry needs --name and excludes -f and --build")
		}
		out, err := client.DeployReference(ctx, o.name, platformapi.DeployReferenceRequest{Reference: o.reference, Variables: vars}, platformapi.DeployOptions{Hostnames: hosts})
		if err != nil {
			return err
		}
		printDeployed(cmd, out)
		return nil
	}
	src, err := resolveSource(o.from)
	if err != nil {
		return err
	}
	if o.build && src.ManifestPath != "" {
		m, err := manifest.Load(src.ManifestPath)
		if err != nil {
			return err
		}
		if err := build.Build(ctx, m, build.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}); err != nil {
			return err
		}
	}
	_, app, err := loadApp(ctx, src)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = dnsLabel(app.Metadata.Name)
	}

	// The bundle goes to a temporary file first, so its size is known
	// (for the progress bar and Content-Length).
	tmp, err := os.CreateTemp("", "wisp-bundle-*.tar.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := bundle.Write(tmp, app, vars); err != nil {
		return fmt.Errorf("packing the app: %w", err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var body io.Reader = tmp
	if isTerminal(os.Stderr) {
		p := newProgress(os.Stderr, size)
		defer p.done()
		body = p.reader(tmp)
	}
	out, err := client.Deploy(ctx, name, body, size, platformapi.DeployOptions{Hostnames: hosts})
	if err != nil {
		return err
	}
	printDeployed(cmd, out)
	return nil
}

func printDeployed(cmd *cobra.Command, out *platformapi.App) {
	fmt.Fprintf(cmd.OutOrStdout(), "Deployed %s revision %d\n", out.Name, out.Current)
	fmt.Fprintf(cmd.OutOrStdout(), "  %s\n", out.URL)
	for _, h := range out.Hostnames {
		fmt.Fprintf(cmd.OutOrStdout(), "  http://%s/\n", h)
	}
}

// dnsLabel turns an application name into a valid app name.
func dnsLabel(s string) string {
	id := componentIDFromFile(s + ".x") // kebab-case, lower case, [a-z0-9-]
	if len(id) > 63 {
		id = strings.TrimRight(id[:63], "-")
	}
	return id
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws an upload progress bar on a terminal.
type progress struct {
	w     io.Writer
	total int64
	sent  atomic.Int64
	last  time.Time
}

func newProgress(w io.Writer, total int64) *progress { return &progress{w: w, total: total} }

func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.sent.Add(int64(n))
	if now := time.Now(); now.Sub(pr.p.last) > 100*time.Millisecond || err == io.EOF {
		pr.p.last = now
		pr.p.draw()
	}
	return n, err
}

func (p *progress) draw() {
	const width = 30
	sent := p.sent.Load()
	frac := 1.0
	if p.total > 0 {
		frac = float64(sent) / float64(p.total)
	}
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	fmt.Fprintf(p.w, "\rUploading [%s] %s / %s", bar, humanBytes(sent), humanBytes(p.total))
}

func (p *progress) done() {
	p.draw()
	fmt.Fprintln(p.w)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
