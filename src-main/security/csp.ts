// The renderer's Content Security Policy, one constant for both hosts that serve the renderer (desktop and web mode)
// and for the build, which writes it into the page as a meta tag.

/** Content Security Policy for the renderer in both hosts: no inline or remote script, API traffic only to our origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Svelte style directives and plotly set inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
