package main

// wisp login and wisp tenants: the admin API's address and token, kept in
// the user's config directory.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// Environment overrides of the stored login (CI, scripts).
const (
	serverURLEnv   = "WISP_SERVER_URL"
	serverTokenEnv = "WISP_SERVER_TOKEN"
)

// loginConfig is <user config dir>/wisp/login.json.
type loginConfig struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func loginConfigPath() (string, error) {
	dir := os.Getenv("WISP_CONFIG_DIR")
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(d, "wisp")
	}
	return filepath.Join(dir, "login.json"), nil
}

// platformClient returns a client for the logged-in server.
func platformClient() (*platformapi.Client, string, error) {
	cfg := loginConfig{URL: os.Getenv(serverURLEnv), Token: os.Getenv(serverTokenEnv)}
	if cfg.URL == "" || cfg.Token == "" {
		path, err := loginConfigPath()
		if err != nil {
			return nil, "", err
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", usagef("not logged in: run 'wisp login <admin url> --token-stdin' (or set %s and %s)", serverURLEnv, serverTokenEnv)
		}
		if err != nil {
			return nil, "", err
		}
		var stored loginConfig
		if err := json.Unmarshal(data, &stored); err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		if cfg.URL == "" {
			cfg.URL = stored.URL
		}
		if cfg.Token == "" {
			cfg.Token = stored.Token
		}
	}
	return platformapi.NewClient(cfg.URL, cfg.Token, nil), cfg.URL, nil
}

func newLoginCmd() *cobra.Command {
	var tokenStdin bool
	cmd := &cobra.Command{
		Use:   "login <admin url>",
		Short: "Store the address and token of a wisp server's admin API",
		Long: `Check a token against a wisp server's admin API and store both, readable
only by you, for wisp deploy, wisp apps and wisp tenants. The token is read
from standard input, so it never appears in the shell history or in ps.`,
		Example: `  echo "$TOKEN" | wisp login http://127.0.0.1:3001 --token-stdin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !tokenStdin {
				return usagef("pass the token on standard input with --token-stdin")
			}
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("%q is not an http(s) URL", args[0])
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			token := strings.TrimSpace(line)
			if token == "" {
				return usagef("no token on standard input")
			}
			who, err := platformapi.NewClient(args[0], token, nil).WhoAmI(cmd.Context())
			if err != nil {
				return fmt.Errorf("checking the token: %w", err)
			}
			path, err := loginConfigPath()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			data, _ := json.MarshalIndent(loginConfig{URL: strings.TrimRight(args[0], "/"), Token: token}, "", "  ")
			if err := writeFile0600(path, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as tenant %q\n", args[0], who.Tenant.Name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&tokenStdin, "token-stdin", false, "read the token from standard input")
	return cmd
}

// writeFile0600 replaces path with data, readable only by the user, with
// no moment at which another user could read it.
func writeFile0600(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".login-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func newTenantsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "Manage the tenants of a wisp server and their tokens",
	}
	var create platformapi.CreateTenantRequest
	var mem string
	createCmd := &cobra.Command{
		Use:   "create <name>",
		Short: "Create a tenant and print its first token (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			create.Name = args[0]
			if mem != "" {
				if create.Quotas.MaxInstanceMemory, err = parseBytes(mem); err != nil {
					return usagef("--max-instance-memory: %v", err)
				}
			}
			out, err := c.CreateTenant(cmd.Context(), create)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created tenant %q. Its token (shown once), id %s:\n%s\n", out.Tenant.Name, out.Token.ID, out.Token.Secret)
			return nil
		},
	}
	cf := createCmd.Flags()
	cf.BoolVar(&create.Admin, "admin", false, "the tenant may manage tenants")
	cf.IntVar(&create.Quotas.MaxApps, "max-apps", 0, "apps the tenant may have (0: the server's default)")
	cf.IntVar(&create.Quotas.MaxConcurrency, "max-concurrency", 0, "concurrent requests per app (0: the server's default)")
	cf.IntVar(&create.Quotas.MaxTenantConcurrency, "max-tenant-concurrency", 0, "concurrent requests across the tenant's apps (0: the server's default)")
	cf.StringVar(&mem, "max-instance-memory", "", "linear memory per instance, e.g. 64Mi (default: the server's)")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List tenants (admin only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			ts, err := c.ListTenants(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tADMIN\tAPPS\tMAX APPS\tMAX MEMORY\tMAX CONCURRENCY")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%d\t%d\n", t.Name, t.Admin, t.Apps, t.Quotas.MaxApps, t.Quotas.MaxInstanceMemory, t.Quotas.MaxConcurrency)
			}
			return tw.Flush()
		},
	}
	tokenCmd := &cobra.Command{
		Use:   "create-token <tenant>",
		Short: "Issue another token for a tenant (admin, or the tenant itself)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			tok, err := c.CreateToken(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Token for %q (shown once), id %s:\n%s\n", tok.Tenant, tok.ID, tok.Secret)
			return nil
		},
	}
	revokeCmd := &cobra.Command{
		Use:   "revoke-token <token id>",
		Short: "Revoke a token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(createCmd, listCmd, tokenCmd, revokeCmd)
	return cmd
}
