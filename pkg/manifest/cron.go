package manifest

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// cronParser reads the six-field expressions (seconds first) of the
// spin-trigger-cron plugin, and the @every/@hourly descriptors.
var cronParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCronExpression parses a [[trigger.cron]] cron_expression:
// "sec min hour day-of-month month day-of-week", optionally followed by a
// year. The plugin's scheduler understands years; Wisp accepts only "*"
// (or "?") there, meaning every year, and says so otherwise.
func ParseCronExpression(expr string) (cron.Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) == 7 {
		if y := fields[6]; y != "*" && y != "?" {
			return nil, fmt.Errorf("cron_expression %q: a year field other than \"*\" is not supported", expr)
		}
		fields = fields[:6]
	}
	if len(fields) != 6 && !strings.HasPrefix(strings.TrimSpace(expr), "@") {
		return nil, fmt.Errorf("cron_expression %q has %d fields; want 6, seconds first: \"sec min hour day-of-month month day-of-week\" (for example \"0 */5 * * * *\")", expr, len(fields))
	}
	s, err := cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("cron_expression %q: %v", expr, err)
	}
	return s, nil
}

// CheckCronExpression reports whether expr is a cron_expression Wisp can
// schedule.
func CheckCronExpression(expr string) error {
	_, err := ParseCronExpression(expr)
	return err
}
