import { SignJWT, jwtVerify, errors } from 'jose';
import type { SigningKey, WidgetTokenClaims } from './types';

/** `aud` of every widget token: a token minted for something else with the same secret is refused. */
export const TOKEN_AUDIENCE = 'codegpt-widget';
/** `iss` of every widget token. */
export const TOKEN_ISSUER = 'codegpt-widget-broker';
/** Clock skew accepted on `exp` and `nbf`, in seconds (between isolates, or a refresh racing expiry). */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Why a token was refused: `token_expired` lets the widget refresh once (embed.md section 5, rule 5). */
export type TokenFailure = 'token_expired' | 'invalid_token';

/** Outcome of {@link TokenService.verify}. */
export type VerifyResult = { ok: true; claims: WidgetTokenClaims } | { ok: false; code: TokenFailure; message: string };

/** Issues and checks widget tokens; see {@link createTokenService}. */
export interface TokenService {
  issue(input: { agent: string; origin: string; sub: string; ttlSeconds: number }): Promise<string>;
  verify(token: string): Promise<VerifyResult>;
}

const encoder = new TextEncoder();

/**
 * HS256 JWTs with a `kid` header. The first key signs; every listed key verifies, so a rotation is:
 * prepend the new key, wait one TTL, remove the old one.
 */
export function createTokenService(keys: readonly SigningKey[], now: () => number): TokenService {
  const secrets = new Map(keys.map((k) => [k.kid, encoder.encode(k.secret)]));
  const signer = keys[0];
  if (!signer) throw new TypeError('createTokenService: no signing key');
  const signingSecret = encoder.encode(signer.secret);

  return {
    issue({ agent, origin, sub, ttlSeconds }) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT({ agent, origin })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signer.kid })
        .setSubject(sub)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuer(TOKEN_ISSUER)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(crypto.randomUUID())
        .sign(signingSecret);
    },

    async verify(token) {
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            const secret = header.kid === undefined ? undefined : secrets.get(header.kid);
            // An unknown kid is a token from a removed key or another system: plainly invalid.
            if (!secret) throw new errors.JWSSignatureVerificationFailed('unknown kid');
            return secret;
          },
          {
            algorithms: ['HS256'],
            audience: TOKEN_AUDIENCE,
            issuer: TOKEN_ISSUER,
            clockTolerance: CLOCK_TOLERANCE_SECONDS,
            currentDate: new Date(now()),
            requiredClaims: ['exp', 'nbf', 'iat', 'jti', 'sub'],
          },
        );
        if (typeof payload.agent !== 'string' || typeof payload.origin !== 'string') {
          return { ok: false, code: 'invalid_token', message: 'Token is missing its agent or origin' };
        }
        return { ok: true, claims: payload as unknown as WidgetTokenClaims };
      } catch (error) {
        if (error instanceof errors.JWTExpired) return { ok: false, code: 'token_expired', message: 'Token expired' };
        return { ok: false, code: 'invalid_token', message: 'Token is not valid' };
      }
    },
  };
}
