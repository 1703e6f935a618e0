import { describe, expect, it } from 'vitest'
import { isTrustedSender, secureWindowOptions } from '../../../src-main/desktop/security.ts'
import { CONTENT_SECURITY_POLICY } from '../../../src-main/security/csp.ts'

describe('window security', () => {
  it('creates the window with context isolation, sandbox and no Node integration', () => {
    const { webPreferences } = secureWindowOptions('/app/out/preload/index.cjs')
    expect(webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    })
  })

  it('has a strict content security policy', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/)
        return [name, values]
      }),
    )
    expect(directives['default-src']).toEqual(["'self'"])
    expect(directives['script-src']).toEqual(["'self'"])
    expect(directives['object-src']).toEqual(["'none'"])
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*/)
    expect(directives['script-src']).not.toContain("'unsafe-inline'")
  })

  it('trusts only the app page as a sender', () => {
    const fileApp = 'file:///opt/benchside/out/renderer/index.html'
    expect(isTrustedSender('file:///opt/benchside/out/renderer/index.html#/runs', fileApp)).toBe(true)
    expect(isTrustedSender('file:///tmp/evil.html', fileApp)).toBe(false)
    expect(isTrustedSender('https://example.com/', fileApp)).toBe(false)
    expect(isTrustedSender(undefined, fileApp)).toBe(false)
    const devApp = 'http://localhost:5173/'
    expect(isTrustedSender('http://localhost:5173/#/runs', devApp)).toBe(true)
    expect(isTrustedSender('http://localhost:5174/', devApp)).toBe(false)
    expect(isTrustedSender('not a url', devApp)).toBe(false)
  })
})
