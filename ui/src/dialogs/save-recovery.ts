// Saving the recovery file where the writer chooses, in the desktop's own save dialog.
import { api } from "../api";
import { t } from "../i18n";
import { save as saveDialog } from "@tauri-apps/plugin-dialog";

/**
 * Asks where, in the desktop's save dialog (starting in the Documents folder), and saves the
 * recovery file there. Returns the path it was saved to, or null when the writer cancels.
 */
export async function saveRecoveryAs(): Promise<string | null> {
  const path = await saveDialog({ title: t("recovery-dialog-title"), defaultPath: (await api.suggestedPaths()).recovery, filters: [{ name: t("recovery-file-filter"), extensions: ["json"] }] });
  return path ? await api.saveRecoveryFile(path) : null;
}
