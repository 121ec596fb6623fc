package platformapi_test

import (
	"context"
	"fmt"
	"os"

	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// Deploy a bundle written by `wisp deploy` (or internal/platform/bundle)
// and print where the app answers.
func ExampleClient_Deploy() {
	ctx := context.Background()
	c := platformapi.NewClient("http://127.0.0.1:3001", os.Getenv("WISP_SERVER_TOKEN"), nil)
	f, err := os.Open("app.bundle.tar.gz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	app, err := c.Deploy(ctx, "hello", f, st.Size(), platformapi.DeployOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(app.URL, "revision", app.Current)
}
