import { describe, expect, it } from 'vitest'
import { APP_URL, appFilePath, isAllowedExternalUrl, isAllowedNavigation, isTrustedSender, secureWindowOptions } from '../../../src-main/desktop/security.ts'
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

  it('trusts the app:// page as a sender, and no other page of that scheme or another', () => {
    expect(isTrustedSender('app://benchside/index.html#/runs/compare?runs=a,b', APP_URL)).toBe(true)
    expect(isTrustedSender('app://benchside/other.html', APP_URL)).toBe(false)
    expect(isTrustedSender('app://evil/index.html', APP_URL)).toBe(false)
    expect(isTrustedSender('file:///opt/benchside/out/renderer/index.html', APP_URL)).toBe(false)
    expect(isTrustedSender('https://benchside/index.html', APP_URL)).toBe(false)
  })

  it('serves app:// requests only from inside the renderer folder', () => {
    const root = '/opt/benchside/out/renderer'
    expect(appFilePath('app://benchside/index.html', root)).toBe(`${root}/index.html`)
    expect(appFilePath('app://benchside/', root)).toBe(`${root}/index.html`)
    expect(appFilePath('app://benchside/assets/index-abc.js?v=1', root)).toBe(`${root}/assets/index-abc.js`)
    expect(appFilePath('app://benchside/assets/a%20b.css', root)).toBe(`${root}/assets/a b.css`)
    // Dot segments are resolved by the URL parser first (the request never leaves the folder), encoded ones by us.
    expect(appFilePath('app://benchside/../../../etc/passwd', root)).toBe(`${root}/etc/passwd`)
    expect(appFilePath('app://benchside/%2e%2e/%2e%2e/etc/passwd', root)).toBe(`${root}/etc/passwd`)
    for (const refused of [
      'app://benchside/assets/..%2f..%2f..%2fsecret',
      'app://benchside/..%2F..%2Fetc%2Fpasswd',
      'app://benchside/%E0%A4%A',
      'app://benchside/a%00b',
      'app://other/index.html',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(appFilePath(refused, root), refused).toBeNull()
    }
  })

  it('lets the window navigate only within its own page (will-navigate, will-redirect, will-frame-navigate)', () => {
    expect(isAllowedNavigation('app://benchside/index.html#/devices', APP_URL)).toBe(true)
    expect(isAllowedNavigation('app://benchside/index.html', APP_URL)).toBe(true)
    expect(isAllowedNavigation('app://benchside/index.html?x=1', APP_URL)).toBe(false)
    expect(isAllowedNavigation('https://example.com/', APP_URL)).toBe(false)
    expect(isAllowedNavigation('file:///opt/benchside/out/renderer/index.html', APP_URL)).toBe(false)
    expect(isAllowedNavigation('javascript:alert(1)', APP_URL)).toBe(false)
    expect(isAllowedNavigation('http://localhost:5173/#/runs', 'http://localhost:5173/')).toBe(true)
    expect(isAllowedNavigation('http://localhost:5174/', 'http://localhost:5173/')).toBe(false)
  })

  it('opens only https links to the documentation hosts in the system browser', () => {
    expect(isAllowedExternalUrl('https://github.com/tensorflow/tfjs')).toBe(true)
    expect(isAllowedExternalUrl('https://www.tensorflow.org/js')).toBe(true)
    expect(isAllowedExternalUrl('http://github.com/')).toBe(false)
    expect(isAllowedExternalUrl('https://github.com.evil.example/')).toBe(false)
    expect(isAllowedExternalUrl('https://user:pass@github.com/')).toBe(false)
    expect(isAllowedExternalUrl('file:///etc/passwd')).toBe(false)
    expect(isAllowedExternalUrl('smb://github.com/share')).toBe(false)
    expect(isAllowedExternalUrl('https://example.com/')).toBe(false)
    expect(isAllowedExternalUrl('not a url')).toBe(false)
  })
})
