import { defineApp } from "convex/server";
import guard from "convex-guard/convex.config.js";

const app = defineApp();
app.use(guard);

export default app;
