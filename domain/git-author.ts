/** An author as git writes one: `Jane Doe <jane@example.com>`. */
export interface GitAuthor {
  name?: string;
  email?: string;
}

/**
 * Reads `Name <email>` (Bitbucket's `author.raw`, `git log`'s `%an <%ae>`, the CLI's
 * `--author`). A bare address is the email, anything else without `<...>` the name.
 */
export function parseGitAuthor(raw: string): GitAuthor {
  const match = /^(.*?)\s*<([^>]*)>\s*$/.exec(raw);
  if (!match) {
    const text = raw.trim();
    if (text === "") return {};
    return /^\S+@\S+$/.test(text) ? { email: text } : { name: text };
  }
  const name = match[1]?.trim();
  const email = match[2]?.trim();
  return { ...(name ? { name } : {}), ...(email ? { email } : {}) };
}
