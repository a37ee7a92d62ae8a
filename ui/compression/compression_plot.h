#pragma once
// The compression plot as a file, for `otfuse scenario compression --plot` (no Qt types here,
// so the CLI includes it without Qt headers; it links otfuse_ui when built with the UI).
#include <string>

#include "otfuse/engine/compression.h"

namespace otfuse::ui {

/// Draws `result` as CompressionView does (accuracy against kept width; dashed before, solid
/// after fine-tuning) and writes it to `path`: PDF when it ends in .pdf, PNG otherwise;
/// atomically (temporary file, fsync, rename). Creates an offscreen QApplication when there is
/// none. Throws FileError when writing fails.
void saveCompressionPlot(const CompressionResult& result, const std::string& path);

}  // namespace otfuse::ui
