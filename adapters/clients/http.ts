/**
 * The HTTP settings every SDK client of a container shares: connections kept open between
 * calls, and more of them than the SDK's 50, which a busy intake (64 deliveries at once, each
 * with its own calls) had used up.
 */
export const KEEP_ALIVE = {
  requestHandler: {
    httpAgent: { keepAlive: true, maxSockets: 256 },
    httpsAgent: { keepAlive: true, maxSockets: 256 },
  },
} as const;
