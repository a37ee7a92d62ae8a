// placeholder until the data module lands
namespace otfuse {}
