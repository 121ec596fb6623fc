package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newAppsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Manage your apps on a wisp server",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List your apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			apps, err := c.ListApps(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tREVISION\tLOADED\tURL")
			for _, a := range apps {
				fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", a.Name, a.Current, a.Loaded, a.URL)
			}
			return tw.Flush()
		},
	}
	info := &cobra.Command{
		Use:   "info <app>",
		Short: "Show an app's URL, routes and revisions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			a, err := c.App(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Name:      %s\nURL:       %s\n", a.Name, a.URL)
			for _, h := range a.Hostnames {
				fmt.Fprintf(w, "Hostname:  http://%s/\n", h)
			}
			fmt.Fprintf(w, "Revision:  %d\nLoaded:    %v\n", a.Current, a.Loaded)
			for _, r := range a.Routes {
				fmt.Fprintf(w, "Route:     %s\n", r)
			}
			fmt.Fprintln(w, "Revisions:")
			for _, r := range a.Revisions {
				mark := " "
				if r.Number == a.Current {
					mark = "*"
				}
				fmt.Fprintf(w, "  %s %3d  %s  %s  %s\n", mark, r.Number, r.Created.Local().Format(time.DateTime), r.Digest[:min(len(r.Digest), 19)], r.Metadata)
			}
			return nil
		},
	}
	var tail int
	logs := &cobra.Command{
		Use:   "logs <app>",
		Short: "Show the last lines of an app's component output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			return c.Logs(cmd.Context(), args[0], tail, cmd.OutOrStdout())
		},
	}
	logs.Flags().IntVar(&tail, "tail", 100, "lines per log file")
	var revision int
	rollback := &cobra.Command{
		Use:   "rollback <app>",
		Short: "Serve an earlier revision (default: the one before the current)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			a, err := c.Rollback(cmd.Context(), args[0], revision)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s now serves revision %d\n", a.Name, a.Current)
			return nil
		},
	}
	rollback.Flags().IntVar(&revision, "revision", 0, "revision to serve")
	del := &cobra.Command{
		Use:   "delete <app>",
		Short: "Delete an app with its revisions, key-value and SQLite data and logs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := platformClient()
			if err != nil {
				return err
			}
			if err := c.DeleteApp(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, info, logs, rollback, del)
	return cmd
}
