// placeholder until the engine lands
namespace otfuse {}
