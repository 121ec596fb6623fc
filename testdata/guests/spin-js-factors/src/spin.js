// Entry point: attaches the SDK-style handler(req, res) of index.js to the
// fetch event, the shape the Spin JS SDK 2.0 http-js template uses.

import { ResponseBuilder } from "@fermyon/spin-sdk";
import { handler } from "./index.js";

addEventListener("fetch", (event) => {
  handleEvent(event);
});

async function handleEvent(event) {
  let resolve;
  const responsePromise = new Promise((res) => {
    resolve = res;
  });
  event.respondWith(responsePromise);

  const res = new ResponseBuilder(resolve);
  try {
    await handler(event.request, res);
  } catch (e) {
    res.status(500);
    res.set("content-type", "text/plain; charset=utf-8");
    res.send(`error in handler: ${e}\n`);
  }
}
