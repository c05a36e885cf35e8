export { discoverProvider, standardProfile, type ClientCredentials, type Profile, type Provider } from './provider.ts';
export { genericProvider, type GenericProviderOptions } from './providers/generic.ts';
export { githubProvider } from './providers/github.ts';
export { googleProvider } from './providers/google.ts';
export { kakaoProvider } from './providers/kakao.ts';
export { naverProvider } from './providers/naver.ts';
export {
  beginSignIn,
  completeSignIn,
  openTransaction,
  sealTransaction,
  type SignInOptions,
  type SignInResult,
  type SignInTransaction,
} from './sign-in.ts';
export { parseTokenResponse, requestTokens, TokenEndpointError, type TokenSet } from './token-endpoint.ts';
export { ReauthenticationRequired, TokenVault, type StoredTokenInfo, type TokenVaultOptions } from './vault/token-vault.ts';
export type { VaultKeys } from './vault/vault-encryption.ts';
export { Accounts, type LinkedIdentity, type SignedInUser } from './accounts.ts';
export { OAuthError } from '../shared/oauth-error.ts';
