import { cronJobs } from "convex/server";
import { internal } from "./_generated/api.js";

const crons = cronJobs();

// Publishes the audit log's head outside the deployment every hour (auditAnchors.ts).
crons.interval("publish audit head", { hours: 1 }, internal.auditAnchors.publishHead, {});

export default crons;
